// node-redis and ioredis over the Unix socket (`unixsocket`), against Herald and Redis: commands,
// a subscriber on the socket receiving from a publisher on TCP, and CLIENT INFO's view of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import Redis from 'ioredis';
import { Server, KINDS, waitFor, deferrer } from './servers.mjs';

const destroy = (c) => () => { try { c.disconnect(); } catch { /* already closed */ } };

for (const kind of KINDS) {
  test(`node-redis and ioredis over the Unix socket (${kind})`, async (t) => {
    const defer = deferrer(t);
    // A short directory of its own: a socket path must fit in 107 bytes.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-unix-'));
    defer(() => fs.rmSync(dir, { recursive: true, force: true }));
    const sock = path.join(dir, 's.sock');
    const server = await new Server(kind, ['--unixsocket', sock, '--unixsocketperm', '700']).start();
    defer(() => server.stop());

    const client = await createClient({ socket: { path: sock } }).connect();
    defer(destroy(client));
    assert.equal(await client.set('k', 'v'), 'OK');
    assert.equal(await client.get('k'), 'v');
    const info = await client.sendCommand(['CLIENT', 'INFO']);
    assert.match(info, new RegExp(`addr=${sock}:0 laddr=${sock}:0 .*flags=U `));

    const sub = new Redis({ path: sock, lazyConnect: true });
    defer(destroy(sub));
    await sub.connect();
    const got = [];
    sub.on('message', (channel, message) => got.push([channel, message]));
    assert.equal(await sub.subscribe('ch'), 1);
    const tcp = await createClient({ url: `redis://127.0.0.1:${server.port}` }).connect();
    defer(destroy(tcp));
    assert.equal(await tcp.publish('ch', 'over tcp'), 1);
    await waitFor(() => got.length === 1, 5000, 'the message on the Unix socket');
    assert.deepEqual(got, [['ch', 'over tcp']]);
    assert.equal(await tcp.get('k'), 'v');
  });
}
