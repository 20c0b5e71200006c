// node-redis (RESP2 and RESP3) and ioredis pub/sub against Herald and Redis.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import Redis from 'ioredis';
import { Server, KINDS, waitFor, until, deferrer } from './servers.mjs';

// Failure-path cleanup: a client already closed by the test makes this a no-op.
const destroy = (c) => () => { try { c.destroy(); } catch { /* already closed */ } };

for (const kind of KINDS) {
  for (const RESP of [2, 3]) {
    test(`node-redis RESP${RESP} subscribe, psubscribe, ssubscribe and fan-out (${kind})`, async (t) => {
      const defer = deferrer(t);
      const server = await new Server(kind).start();
      defer(() => server.stop());
      const url = `redis://127.0.0.1:${server.port}`;
      const publisher = await createClient({ url, RESP }).connect();
      defer(destroy(publisher));
      const subscribers = await Promise.all([0, 1, 2].map(() => createClient({ url, RESP }).connect()));
      subscribers.forEach((s) => defer(destroy(s)));
      const got = [];
      for (const [i, s] of subscribers.entries()) {
        await s.subscribe('fan', (message, channel) => got.push([i, channel, message]));
      }
      await subscribers[0].pSubscribe('f*', (message, channel) => got.push(['p', channel, message]));
      await subscribers[1].sSubscribe('shard', (message, channel) => got.push(['s', channel, message]));
      assert.equal(await publisher.publish('fan', 'hello'), 4);
      assert.equal(await publisher.sPublish('shard', 'x'), 1);
      await waitFor(() => got.length === 5);
      got.sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      assert.deepEqual(got, [[0, 'fan', 'hello'], [1, 'fan', 'hello'], [2, 'fan', 'hello'], ['p', 'fan', 'hello'], ['s', 'shard', 'x']]);
      assert.deepEqual(await publisher.pubSubNumSub(['fan']), { fan: 3 });
      for (const s of subscribers) await s.quit();
      await publisher.quit();
      await server.stop();
    });
  }

  test(`ioredis subscribe, psubscribe, ssubscribe (${kind})`, async (t) => {
    const defer = deferrer(t);
    const server = await new Server(kind).start();
    defer(() => server.stop());
    const sub = new Redis(server.port, '127.0.0.1');
    const pub = new Redis(server.port, '127.0.0.1');
    defer(() => { sub.disconnect(); pub.disconnect(); });
    const got = [];
    sub.on('message', (channel, message) => got.push(['m', channel, message]));
    sub.on('pmessage', (pattern, channel, message) => got.push(['p', pattern, channel, message]));
    sub.on('smessage', (channel, message) => got.push(['s', channel, message]));
    assert.equal(await sub.subscribe('a', 'b'), 2);
    assert.equal(await sub.psubscribe('a*'), 3);
    assert.equal(await sub.ssubscribe('sh'), 1);
    assert.equal(await pub.publish('a', '1'), 2);
    assert.equal(await pub.spublish('sh', '2'), 1);
    await waitFor(() => got.length === 3);
    assert.deepEqual(got.sort(), [['m', 'a', '1'], ['p', 'a*', 'a', '1'], ['s', 'sh', '2']]);
    sub.disconnect();
    pub.disconnect();
    await server.stop();
  });

  test(`ioredis resubscribes after a server restart (${kind})`, async (t) => {
    const defer = deferrer(t);
    const server = await new Server(kind).start();
    defer(() => server.stop());
    // Retry every 100 ms, at most 100 times.
    const retryStrategy = (times) => (times <= 100 ? 100 : null);
    const sub = new Redis(server.port, '127.0.0.1', { retryStrategy });
    const pub = new Redis(server.port, '127.0.0.1', { retryStrategy });
    defer(() => { sub.disconnect(); pub.disconnect(); });
    const got = [];
    sub.on('message', (channel, message) => got.push(message));
    await sub.subscribe('events');
    await server.restart();
    await waitFor(() => sub.status === 'ready' && pub.status === 'ready', 10000);
    // The subscription is restored by the client on reconnect; wait until the server has it.
    await until(async () => (await pub.pubsub('NUMSUB', 'events'))[1] === 1, 5000, 'NUMSUB events = 1');
    assert.equal(await pub.publish('events', 'after-restart'), 1);
    await waitFor(() => got.includes('after-restart'));
    sub.disconnect();
    pub.disconnect();
    await server.stop();
  });
}
