/**
 * `npm start`: migrates the database, then runs the five services in the
 * foreground against the local PostgreSQL, Redis and NATS (or whatever the
 * environment points at), each as its own process with prefixed output.
 * Ctrl-C or SIGTERM stops them all gracefully.
 */
import { ChildProcess, spawn } from 'child_process';
import { join } from 'path';
import { loadConfig, ServiceConfig } from '@odb/platform';
import { redactUrl, runMigrations } from '@odb/persistence';

const ROOT = join(__dirname, '..');

const SERVICES = [
  { name: 'coordinator', port: 8001, api: true },
  { name: 'contributor-ingest', port: 8002, api: true },
  { name: 'consumer-query', port: 8003, api: true },
  { name: 'harvester', port: 8004, api: false },
  { name: 'catalog-publisher', port: 8005, api: false },
] as const;

async function main(): Promise<void> {
  const config = loadConfig(ServiceConfig);
  const applied = await runMigrations({ url: config.DATABASE_URL, applicationName: 'odb-start' });
  log('platform', `database ${redactUrl(config.DATABASE_URL)}: ${applied.length} migration(s) applied`);

  const children: ChildProcess[] = SERVICES.map((service) => {
    const child = spawn(process.execPath, ['-r', join(ROOT, 'tools/register.js'), join(ROOT, `apps/${service.name}/src/main.ts`)], {
      cwd: ROOT,
      env: { ...process.env, PORT: process.env[`${envName(service.name)}_PORT`] ?? String(service.port), MIGRATE_ON_START: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    prefixLines(service.name, child);
    child.on('exit', (code, signal) => {
      log(service.name, `exited (${signal ?? code})`);
      if (!stopping) shutdown(code ?? 1);
    });
    return child;
  });

  const base = process.env.API_BASE ?? '/v1';
  log('platform', 'services:');
  for (const service of SERVICES) {
    const port = process.env[`${envName(service.name)}_PORT`] ?? service.port;
    const root = `http://localhost:${port}`;
    log('platform', `  ${service.name.padEnd(19)} ${service.api ? `${root}${base}  (docs ${root}${base}/docs)` : `${root}/ready`}`);
  }
  log('platform', `bootstrap coordinator token: written by the coordinator on first start to ${process.env.BOOTSTRAP_TOKEN_FILE ?? 'var/bootstrap-coordinator.token'}`);

  let stopping = false;
  const shutdown = (code: number) => {
    if (stopping) return;
    stopping = true;
    log('platform', 'stopping services…');
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    let remaining = children.filter((child) => child.exitCode === null).length;
    if (remaining === 0) process.exit(code);
    for (const child of children) {
      child.once('exit', () => {
        remaining -= 1;
        if (remaining === 0) process.exit(code);
      });
    }
  };
  process.on('SIGINT', () => shutdown(0));
  process.on('SIGTERM', () => shutdown(0));
}

function envName(service: string): string {
  return service.toUpperCase().replace(/-/g, '_');
}

function prefixLines(name: string, child: ChildProcess): void {
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line) log(name, line);
    });
  }
}

function log(name: string, line: string): void {
  process.stdout.write(`[${name.padEnd(18)}] ${line}\n`);
}

main().catch((error) => {
  process.stderr.write(`could not start the platform: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
