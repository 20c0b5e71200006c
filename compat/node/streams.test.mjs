// node-redis and ioredis stream round trips with a consumer group, and a blocking XREADGROUP
// with a timeout, against Herald and Redis.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import Redis from 'ioredis';
import { Server, KINDS, deferrer } from './servers.mjs';

for (const kind of KINDS) {
  test(`ioredis stream round trip with a group (${kind})`, async (t) => {
    const defer = deferrer(t);
    const server = await new Server(kind).start();
    defer(() => server.stop());
    const r = new Redis(server.port, '127.0.0.1');
    defer(() => r.disconnect());
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await r.xadd('s', '*', 'n', String(i)));
    assert.equal(await r.xlen('s'), 3);
    assert.equal(await r.xgroup('CREATE', 's', 'g', '0'), 'OK');
    const read = await r.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 2, 'STREAMS', 's', '>');
    assert.deepEqual(read[0][1].map((e) => e[0]), ids.slice(0, 2));
    assert.equal(await r.xack('s', 'g', ids[0]), 1);
    const pending = await r.xpending('s', 'g');
    assert.equal(pending[0], 1);
    assert.deepEqual(pending[3], [['c1', '1']]);
    const blockedStart = Date.now();
    const none = await r.xreadgroup('GROUP', 'g', 'c2', 'BLOCK', 100, 'STREAMS', 'never', '>').catch((e) => e.message);
    assert.match(String(none), /NOGROUP/);
    const empty = await r.xreadgroup('GROUP', 'g', 'c2', 'COUNT', 1, 'BLOCK', 100, 'STREAMS', 's', '>');
    assert.deepEqual(empty[0][1].map((e) => e[0]), [ids[2]]);
    const timedOut = await r.xreadgroup('GROUP', 'g', 'c2', 'BLOCK', 100, 'STREAMS', 's', '>');
    assert.equal(timedOut, null);
    assert.ok(Date.now() - blockedStart >= 90);
    r.disconnect();
    await server.stop();
  });

  for (const RESP of [2, 3]) {
    test(`node-redis RESP${RESP} blocking XREADGROUP woken by XADD (${kind})`, async (t) => {
      const defer = deferrer(t);
      const server = await new Server(kind).start();
      defer(() => server.stop());
      const url = `redis://127.0.0.1:${server.port}`;
      const reader = await createClient({ url, RESP }).connect();
      const writer = await createClient({ url, RESP }).connect();
      for (const c of [reader, writer]) defer(() => { try { c.destroy(); } catch { /* already closed */ } });
      await writer.xGroupCreate('q', 'g', '$', { MKSTREAM: true });
      const pending = reader.xReadGroup('g', 'worker', { key: 'q', id: '>' }, { BLOCK: 5000, COUNT: 1 });
      await new Promise((r) => setTimeout(r, 100));
      const id = await writer.xAdd('q', '*', { job: 'resize' });
      const got = await pending;
      const text = JSON.stringify(got);
      assert.ok(text.includes(id) && text.includes('resize'), text);
      await reader.quit();
      await writer.quit();
      await server.stop();
    });
  }
}
