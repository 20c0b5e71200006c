// node-redis (RESP2 and RESP3) recovering from a server restart on the same port, against Herald
// and Redis: a subscriber to a channel and a pattern reconnects on its own (reconnectStrategy),
// resubscribes, and receives what is published after the restart; a plain command client runs
// commands again, including one queued while the server was down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { Server, KINDS, waitFor, until } from './servers.mjs';

// Retry every 100 ms, give up after 100 retries (10 s): bounded even if the server never returns.
const reconnectStrategy = (retries) => (retries < 100 ? 100 : false);

function closeAll(clients) {
  for (const c of clients) {
    try { c.destroy(); } catch { /* already closed */ }
  }
}

for (const kind of KINDS) {
  for (const RESP of [2, 3]) {
    test(`node-redis RESP${RESP} resubscribes to a channel and a pattern after a server restart (${kind})`, async (t) => {
      const server = await new Server(kind).start();
      const clients = [];
      t.after(async () => { closeAll(clients); await server.stop(); });
      const errors = [];
      const make = async () => {
        const c = createClient({ url: `redis://127.0.0.1:${server.port}`, RESP, socket: { reconnectStrategy, connectTimeout: 2000 } });
        c.on('error', (e) => errors.push(e)); // the dropped connection is reported here
        clients.push(c);
        return c.connect();
      };
      const sub = await make();
      const pub = await make();
      let reconnecting = 0;
      sub.on('reconnecting', () => { reconnecting += 1; });
      const got = [];
      await sub.subscribe('news', (message, channel) => got.push(['message', channel, message]));
      await sub.pSubscribe('alerts.*', (message, channel) => got.push(['pmessage', channel, message]));
      assert.equal(await pub.publish('news', 'before'), 1);
      assert.equal(await pub.publish('alerts.disk', 'before'), 1);
      await waitFor(() => got.length === 2, 5000, 'messages before the restart');

      await server.restart();
      await waitFor(() => sub.isReady && pub.isReady, 10000, 'both clients ready again');
      assert.ok(reconnecting >= 1, 'the subscriber reconnected by itself');
      assert.ok(errors.length >= 1, 'the dropped connection was reported as an error event');
      // The subscriber replays SUBSCRIBE and PSUBSCRIBE on its new connection; the server sees them.
      await until(async () => (await pub.pubSubNumSub('news')).news === 1, 5000, 'NUMSUB news = 1');
      await until(async () => (await pub.pubSubNumPat()) === 1, 5000, 'NUMPAT = 1');

      got.length = 0;
      assert.equal(await pub.publish('news', 'after'), 1);
      assert.equal(await pub.publish('alerts.cpu', 'after'), 1);
      assert.equal(await pub.publish('other', 'ignored'), 0);
      await waitFor(() => got.length === 2, 5000, 'messages after the restart');
      assert.deepEqual(got, [['message', 'news', 'after'], ['pmessage', 'alerts.cpu', 'after']]);
    });

    test(`node-redis RESP${RESP} command client works again after a server restart (${kind})`, async (t) => {
      const server = await new Server(kind).start();
      const clients = [];
      t.after(async () => { closeAll(clients); await server.stop(); });
      const errors = [];
      const client = createClient({ url: `redis://127.0.0.1:${server.port}`, RESP, socket: { reconnectStrategy, connectTimeout: 2000 } });
      client.on('error', (e) => errors.push(e));
      clients.push(client);
      await client.connect();
      assert.equal(await client.set('k', 'before'), 'OK');
      assert.equal(await client.get('k'), 'before');

      await server.restart();
      await waitFor(() => client.isReady, 10000, 'client ready again');
      assert.equal(await client.set('k', 'after', { EX: 100 }), 'OK');
      assert.equal(await client.get('k'), 'after');
      assert.equal(await client.incr('counter'), 1);
      assert.equal(await client.ping(), 'PONG');

      // A command issued while the server is down waits in the offline queue and is answered once
      // the client has reconnected.
      await server.stop();
      await waitFor(() => !client.isReady, 5000, 'client to notice the server is gone');
      const queued = client.incr('offline');
      await server.start();
      assert.equal(await queued, 1);
      assert.equal(await client.get('k'), null); // neither server persists anything here
      assert.ok(errors.length >= 2, 'both drops were reported as error events');
    });
  }
}
