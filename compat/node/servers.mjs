// Starts Herald (HERALD_BIN) or redis-server on a free loopback port; stopped by PID.
import { spawn } from 'node:child_process';
import net from 'node:net';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function reachable(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

export class Server {
  // `extra`: more options for either server (`--unixsocket <path>`).
  constructor(kind, extra = []) { this.kind = kind; this.extra = extra; }

  async start() {
    this.port ??= await freePort();
    const args = this.kind === 'herald'
      ? ['--port', String(this.port), '--bind', '127.0.0.1', '--loglevel', 'warning']
      : ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    args.push(...this.extra);
    const bin = this.kind === 'herald' ? process.env.HERALD_BIN : 'redis-server';
    if (!bin) throw new Error('HERALD_BIN is not set (compat/run sets it)');
    this.proc = spawn(bin, args, { stdio: 'ignore' });
    this.proc.on('error', () => {}); // a binary that cannot start shows as "did not start" below
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      if (await reachable(this.port)) return this;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${this.kind} did not start`);
  }

  // SIGTERM to the PID this object spawned; SIGKILL to the same PID if it has not exited in 10 s.
  async stop() {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    let timer;
    const late = new Promise((r) => { timer = setTimeout(() => r('late'), 10000); });
    if (await Promise.race([exited, late]) === 'late') {
      proc.kill('SIGKILL');
      await exited;
    }
    clearTimeout(timer);
  }

  async restart() { await this.stop(); await this.start(); }
}

export const KINDS = ['herald', 'redis'];

export function waitFor(predicate, ms = 5000, what = 'condition') {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    const tick = () => {
      if (predicate()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

// Polls an async predicate every 50 ms until it holds; rejects after `ms`. A predicate that
// throws (say, a command sent while the server is still coming back) counts as false.
export async function until(predicate, ms = 5000, what = 'condition') {
  const deadline = Date.now() + ms;
  for (;;) {
    let ok = false;
    let timer;
    const left = Math.max(deadline - Date.now(), 50);
    const late = new Promise((r) => { timer = setTimeout(() => r(false), left); });
    try { ok = await Promise.race([predicate(), late]); } catch { ok = false; }
    clearTimeout(timer);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// node:test runs t.after hooks in the order they were added; this returns a `defer(fn)` whose
// functions run last-added first after the test (clients before the servers they talk to), each
// bounded by `ms` and run even if an earlier one failed.
export function deferrer(t, ms = 10000) {
  const stack = [];
  t.after(async () => {
    while (stack.length) {
      const fn = stack.pop();
      let timer;
      const late = new Promise((r) => { timer = setTimeout(r, ms); });
      try { await Promise.race([fn(), late]); } catch { /* keep cleaning up */ }
      clearTimeout(timer);
    }
  });
  return (fn) => { stack.push(fn); };
}
