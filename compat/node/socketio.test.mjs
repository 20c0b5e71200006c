// Socket.IO end to end through @socket.io/redis-adapter, against Herald and Redis: two Socket.IO
// servers (instances A and B) on free loopback ports, each with the adapter on its own pub/sub
// client pair (node-redis in RESP2 and RESP3, or ioredis, as in the adapter's README), and
// socket.io-client sockets connected to each. Whatever one instance sends to sockets held by the
// other travels through the Redis server's pub/sub: broadcasts and room broadcasts on
// `socket.io#/#...` (PSUBSCRIBE), and the inter-server requests (fetchSockets, socketsJoin,
// serverSideEmit, broadcasts with acknowledgements) on `socket.io-request#/#` and
// `socket.io-response#/#` (SUBSCRIBE), sized with PUBSUB NUMSUB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createClient } from 'redis';
import Redis from 'ioredis';
import { Server as IOServer } from 'socket.io';
import { io as ioClient } from 'socket.io-client';
import { createAdapter } from '@socket.io/redis-adapter';
import { Server, KINDS, waitFor, until, deferrer } from './servers.mjs';

const LIBS = ['node-redis RESP2', 'node-redis RESP3', 'ioredis'];
const TIMEOUT = 5000;

function withTimeout(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// The pub/sub pair the adapter's README shows for each client library: a client and its
// duplicate, connected, closed subscriber first with `closeOne`.
async function connectPair(pubClient, errors, closeOne) {
  const subClient = pubClient.duplicate();
  for (const c of [pubClient, subClient]) c.on('error', (e) => errors.push(e));
  await Promise.all([pubClient.connect(), subClient.connect()]);
  return {
    pubClient,
    subClient,
    close: async () => {
      for (const c of [subClient, pubClient]) await closeOne(c);
    },
  };
}

async function redisPair(lib, port, errors) {
  if (lib === 'ioredis') {
    const client = new Redis(port, '127.0.0.1', { retryStrategy: () => null, lazyConnect: true });
    return connectPair(client, errors, (c) =>
      withTimeout(c.quit(), TIMEOUT, 'ioredis QUIT').catch(() => c.disconnect()));
  }
  const RESP = lib.endsWith('RESP3') ? 3 : 2;
  const client = createClient({ url: `redis://127.0.0.1:${port}`, RESP, socket: { reconnectStrategy: false } });
  // close() lets the adapter's last UNSUBSCRIBE/PUNSUBSCRIBE get their replies first.
  return connectPair(client, errors, (c) =>
    withTimeout(c.close(), TIMEOUT, 'node-redis close').catch(() => {
      try { c.destroy(); } catch { /* already closed */ }
    }));
}

// One Socket.IO server with the redis adapter, listening on a free loopback port. Each socket
// gets its name from the client's auth payload; handlers cover joining rooms, shouting to every
// socket of the cluster (io.emit) and telling one room (io.to(room).emit).
async function instance(lib, redisPort, defer, errors) {
  const pair = await redisPair(lib, redisPort, errors);
  const httpServer = http.createServer();
  const io = new IOServer(httpServer, {
    adapter: createAdapter(pair.pubClient, pair.subClient, { requestsTimeout: 3000 }),
  });
  io.on('connection', (socket) => {
    socket.data.name = socket.handshake.auth.name;
    socket.on('join', (room, ack) => { socket.join(room); ack(`joined ${room}`); });
    socket.on('shout', (text) => io.emit('shout', { from: socket.data.name, text }));
    socket.on('tell', (room, text) => io.to(room).emit('told', { room, from: socket.data.name, text }));
  });
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpServer.address();
  defer(() => pair.close());
  defer(() => io.close()); // also closes the HTTP server and the adapter's subscriptions
  return { io, port };
}

async function connectClient(port, name, defer) {
  const socket = ioClient(`http://127.0.0.1:${port}`, {
    auth: { name },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: TIMEOUT,
  });
  defer(() => socket.disconnect());
  await withTimeout(new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  }), TIMEOUT, `socket.io client ${name} connecting`);
  return socket;
}

// Redis (or Herald) and two Socket.IO instances that see each other through the adapter.
async function cluster(kind, lib, defer) {
  const server = await new Server(kind).start();
  defer(() => server.stop()); // deferred first, so it runs after every client has closed
  const errors = [];
  const a = await instance(lib, server.port, defer, errors);
  const b = await instance(lib, server.port, defer, errors);
  // Each adapter subscribes on its own; both are counted once the server has seen both SUBSCRIBEs.
  for (const { io } of [a, b]) {
    await until(async () => (await io.of('/').adapter.serverCount()) === 2, TIMEOUT, 'serverCount() = 2');
  }
  return { server, a, b, errors };
}

function collect(socket, event) {
  const got = [];
  socket.on(event, (payload) => got.push(payload));
  return got;
}

for (const kind of KINDS) {
  for (const lib of LIBS) {
    test(`socket.io redis-adapter (${lib}) io.emit and io.to(room).emit reach clients of the other instance (${kind})`, async (t) => {
      const defer = deferrer(t);
      const { a, b, errors } = await cluster(kind, lib, defer);
      const alice = await connectClient(a.port, 'alice', defer);
      const bob = await connectClient(b.port, 'bob', defer);
      const carol = await connectClient(b.port, 'carol', defer); // on B, never in the room
      const shouts = { alice: collect(alice, 'shout'), bob: collect(bob, 'shout'), carol: collect(carol, 'shout') };
      const told = { alice: collect(alice, 'told'), bob: collect(bob, 'told'), carol: collect(carol, 'told') };

      // io.emit on A: every socket of both instances gets it.
      alice.emit('shout', 'hello everyone');
      await waitFor(() => shouts.bob.length === 1 && shouts.carol.length === 1 && shouts.alice.length === 1, TIMEOUT, 'the shout on both instances');
      assert.deepEqual(shouts.bob, [{ from: 'alice', text: 'hello everyone' }]);
      assert.deepEqual(shouts.carol, [{ from: 'alice', text: 'hello everyone' }]);

      // io.to(room).emit on A: only members of the room, on either instance.
      assert.equal(await alice.timeout(TIMEOUT).emitWithAck('join', 'lobby'), 'joined lobby');
      assert.equal(await bob.timeout(TIMEOUT).emitWithAck('join', 'lobby'), 'joined lobby');
      alice.emit('tell', 'lobby', 'lobby only');
      await waitFor(() => told.bob.length === 1 && told.alice.length === 1, TIMEOUT, 'the room message on both instances');
      assert.deepEqual(told.bob, [{ room: 'lobby', from: 'alice', text: 'lobby only' }]);
      // A shout published after the room message reaches carol through the same pattern
      // subscription; once it is in, the room message would have been too.
      alice.emit('shout', 'second');
      await waitFor(() => shouts.carol.length === 2 && shouts.bob.length === 2, TIMEOUT, 'the second shout');
      assert.deepEqual(told.carol, []);

      // And the other way round: bob on B tells the room, alice on A hears it.
      bob.emit('tell', 'lobby', 'from B');
      await waitFor(() => told.alice.length === 2, TIMEOUT, 'the room message from B on A');
      assert.deepEqual(told.alice[1], { room: 'lobby', from: 'bob', text: 'from B' });
      assert.deepEqual(errors, []);
    });

    test(`socket.io redis-adapter (${lib}) fetchSockets, socketsJoin, serverSideEmit and broadcast acks across instances (${kind})`, async (t) => {
      const defer = deferrer(t);
      const { a, b, errors } = await cluster(kind, lib, defer);
      const alice = await connectClient(a.port, 'alice', defer);
      const bob = await connectClient(b.port, 'bob', defer);
      const carol = await connectClient(b.port, 'carol', defer);
      assert.equal(await bob.timeout(TIMEOUT).emitWithAck('join', 'lobby'), 'joined lobby');

      // fetchSockets on A asks B over socket.io-request#/# and waits for NUMSUB - 1 answers.
      const all = await withTimeout(a.io.fetchSockets(), TIMEOUT, 'fetchSockets');
      assert.deepEqual(all.map((s) => s.data.name).sort(), ['alice', 'bob', 'carol']);
      const inLobby = await withTimeout(a.io.in('lobby').fetchSockets(), TIMEOUT, 'fetchSockets in a room');
      assert.deepEqual(inLobby.map((s) => [s.data.name, s.id]), [['bob', bob.id]]);
      assert.ok(inLobby[0].rooms.has('lobby'));

      // socketsJoin on A makes carol (on B) join a room; a room broadcast from A then reaches her.
      const vip = collect(carol, 'vip');
      a.io.in(carol.id).socketsJoin('vip');
      await until(async () => (await a.io.in('vip').fetchSockets()).length === 1, TIMEOUT, 'carol in room vip');
      a.io.to('vip').emit('vip', 'welcome');
      await waitFor(() => vip.length === 1, TIMEOUT, 'the vip message');
      assert.deepEqual(vip, ['welcome']);

      // serverSideEmit without and with an acknowledgement.
      const heard = [];
      b.io.on('hello', (text) => heard.push(text));
      b.io.on('ping', (n, ack) => ack({ pong: n + 1 }));
      a.io.serverSideEmit('hello', 'from A');
      await waitFor(() => heard.length === 1, TIMEOUT, 'serverSideEmit on B');
      assert.deepEqual(heard, ['from A']);
      assert.deepEqual(await withTimeout(a.io.serverSideEmitWithAck('ping', 41), TIMEOUT, 'serverSideEmitWithAck'), [{ pong: 42 }]);

      // A broadcast with acknowledgements from A collects the answers of the sockets on B too.
      for (const [socket, name] of [[alice, 'alice'], [bob, 'bob'], [carol, 'carol']]) {
        socket.on('roll-call', (ack) => ack(name));
      }
      const answers = await withTimeout(a.io.timeout(3000).emitWithAck('roll-call'), TIMEOUT, 'emitWithAck');
      assert.deepEqual(answers.sort(), ['alice', 'bob', 'carol']);
      assert.deepEqual(errors, []);
    });
  }
}
