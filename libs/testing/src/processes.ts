import { ChildProcess, spawn } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { createServer } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { sleep, waitFor } from './wait';

const ROOT = join(__dirname, '../../..');

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningService {
  name: string;
  url: string;
  process: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** SIGTERM, then wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
}

export interface ServiceProcessOptions {
  waitFor?: 'health' | 'ready';
  timeoutMs?: number;
  /**
   * `source` (default) runs `apps/<app>/src/main.ts` through SWC; `dist` runs
   * the output of `npm run build`, as the container image does (benchmarks
   * measure that: no compiler in the process's memory).
   */
  build?: 'source' | 'dist';
}

/**
 * Node flags for every service process started here, from ODB_SERVICE_NODE_ARGS
 * (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, which NODE_OPTIONS refuses).
 */
function extraNodeArgs(): string[] {
  return (process.env.ODB_SERVICE_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
}

function entryPoint(app: string, build: 'source' | 'dist'): string[] {
  return build === 'dist'
    ? ['-r', join(ROOT, 'tools/dist-register.js'), join(ROOT, `dist/apps/${app}/src/main.js`)]
    : ['-r', join(ROOT, 'tools/register.js'), join(ROOT, `apps/${app}/src/main.ts`)];
}

/** Service processes still running: a test that fails before it stops one must not leave it behind. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts a service as a real process and waits until `/health` (or `/ready`) answers. */
export async function startServiceProcess(app: string, env: Record<string, string>, options: ServiceProcessOptions = {}): Promise<RunningService> {
  const port = Number(env.PORT) || (await freePort());
  let output = '';
  const child = spawn(process.execPath, [...extraNodeArgs(), ...entryPoint(app, options.build ?? 'source')], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const path = options.waitFor === 'ready' ? '/ready' : '/health';
  try {
    await Promise.race([
      waitFor(async () => (await fetch(`${url}${path}`).catch(() => undefined))?.ok, {
        timeoutMs: options.timeoutMs ?? 30_000,
        intervalMs: 100,
        what: `${app} ${path}`,
      }),
      exited.then((code) => {
        throw new Error(`exited with ${code}`);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${app} did not start: ${(error as Error).message}\n${output.slice(-3000)}`);
  }
  return {
    name: app,
    url,
    process: child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A private nats-server with JetStream, for tests that stop and restart NATS. */
export class NatsServerProcess {
  private child?: ChildProcess;
  private readonly storeDir = mkdtempSync(join(tmpdir(), 'odb-nats-'));

  private constructor(readonly port: number) {}

  static async start(): Promise<NatsServerProcess> {
    const server = new NatsServerProcess(await freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const binary = process.env.NATS_SERVER_BIN ?? 'nats-server';
    const args = ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir];
    this.child = spawn(binary, args, { stdio: 'ignore' });
    const { canConnect } = await import('./infrastructure');
    await waitFor(() => canConnect('127.0.0.1', this.port), { timeoutMs: 10_000, what: 'nats-server' });
    await sleep(200); // JetStream finishes starting just after the port opens
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
