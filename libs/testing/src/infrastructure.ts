import { execFileSync } from 'child_process';
import { Socket } from 'net';

/** Where the test infrastructure lives; shared by every test file of a run. */
export interface TestInfrastructure {
  /** A database URL on the server; test files create their own databases next to it. */
  databaseUrl: string;
  redisUrl: string;
  natsUrl: string;
  /** Migrated once per run; each test file clones it. */
  templateDatabase: string;
  source: 'environment' | 'testcontainers' | 'local-defaults';
}

export const INFRA_ENV = 'ODB_TEST_INFRASTRUCTURE';
export const INFRA_MISSING_ENV = 'ODB_TEST_INFRASTRUCTURE_MISSING';

const LOCAL_DEFAULTS = {
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: 'redis://127.0.0.1:6379',
  natsUrl: 'nats://127.0.0.1:4222',
};

export type InfrastructureChoice =
  | { kind: 'environment' | 'local-defaults'; databaseUrl: string; redisUrl: string; natsUrl: string }
  | { kind: 'testcontainers' }
  | { kind: 'missing'; reason: string };

/**
 * Order of preference: the three URLs from the environment; else containers
 * when a Docker engine answers; else the services at their default local
 * addresses when all three accept connections; else nothing (tests skip,
 * saying what is missing).
 */
export async function chooseInfrastructure(env: NodeJS.ProcessEnv = process.env): Promise<InfrastructureChoice> {
  const { DATABASE_URL, REDIS_URL, NATS_URL } = env;
  if (DATABASE_URL && REDIS_URL && NATS_URL) {
    return { kind: 'environment', databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, natsUrl: NATS_URL };
  }
  if (dockerEngineAvailable()) return { kind: 'testcontainers' };
  const unreachable: string[] = [];
  const checks: Array<[string, string]> = [
    ['PostgreSQL', LOCAL_DEFAULTS.databaseUrl],
    ['Redis', LOCAL_DEFAULTS.redisUrl],
    ['NATS', LOCAL_DEFAULTS.natsUrl],
  ];
  for (const [name, url] of checks) {
    const { hostname, port } = new URL(url);
    if (!(await canConnect(hostname, Number(port)))) unreachable.push(`${name} (${hostname}:${port})`);
  }
  if (unreachable.length === 0) return { kind: 'local-defaults', ...LOCAL_DEFAULTS };
  return {
    kind: 'missing',
    reason:
      `no test infrastructure: DATABASE_URL, REDIS_URL and NATS_URL are not all set, no Docker engine answers, ` +
      `and ${unreachable.join(', ')} did not accept a connection`,
  };
}

function dockerEngineAvailable(): boolean {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'pipe', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

/** The infrastructure chosen by the global set-up, as seen from a test file. */
export function currentInfrastructure(): TestInfrastructure | { missing: string } {
  const encoded = process.env[INFRA_ENV];
  if (encoded) return JSON.parse(encoded) as TestInfrastructure;
  return { missing: process.env[INFRA_MISSING_ENV] ?? 'the Jest global set-up did not run' };
}
