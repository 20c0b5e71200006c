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
  constructor(kind) { this.kind = kind; }

  async start() {
    this.port ??= await freePort();
    const args = this.kind === 'herald'
      ? ['--port', String(this.port), '--loglevel', 'warning']
      : ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const bin = this.kind === 'herald' ? process.env.HERALD_BIN : 'redis-server';
    this.proc = spawn(bin, args, { stdio: 'ignore' });
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      if (await reachable(this.port)) return this;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${this.kind} did not start`);
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    await exited;
  }

  async restart() { await this.stop(); await this.start(); }
}

export const KINDS = ['herald', 'redis'];

export function waitFor(predicate, ms = 5000) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    const tick = () => {
      if (predicate()) return resolve();
      if (Date.now() > deadline) return reject(new Error('timed out'));
      setTimeout(tick, 10);
    };
    tick();
  });
}
