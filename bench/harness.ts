import { randomBytes } from 'crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'fs';
import { Client } from 'pg';
import { quoteIdentifier, runMigrations } from '@odb/persistence';
import { RunningService, ServiceProcessOptions, startServiceProcess, waitFor } from '@odb/testing';

/** What a benchmark reports: named figures with units, and the targets they are judged against. */
export interface BenchmarkResult {
  name: string;
  figures: Record<string, { value: number; unit: string }>;
  targets?: Array<{ figure: string; op: '<' | '>' | '<=' | '>='; value: number; met: boolean }>;
  notes?: string[];
}

export interface Benchmark {
  name: string;
  description: string;
  /** Run only when named (it needs something from outside, e.g. a reference deployment's URLs). */
  onlyWhenNamed?: boolean;
  run(context: BenchContext): Promise<BenchmarkResult>;
}

/** NODE_OPTIONS of the container image (Dockerfile), heap cap included. */
export const SERVICE_NODE_OPTIONS = '--enable-source-maps --max-old-space-size=256';

/** The local PostgreSQL's Unix socket directory (Debian's), when the server listens there. */
const LOCAL_SOCKET_DIRECTORY = '/var/run/postgresql';

/**
 * The PostgreSQL server benchmarks use: DATABASE_URL when set; else the local
 * one through its Unix socket, as a single-host deployment should connect
 * (a loopback TCP round trip costs this VM ~25 µs of kernel time a query);
 * else loopback TCP.
 */
export function benchDatabaseUrl(): string {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  if (existsSync(`${LOCAL_SOCKET_DIRECTORY}/.s.PGSQL.5432`)) return `postgres://postgres@localhost/postgres?host=${LOCAL_SOCKET_DIRECTORY}`;
  return 'postgres://postgres@127.0.0.1:5432/postgres';
}

/** Infrastructure for one benchmark: a fresh migrated database, its own NATS namespace and Redis prefix. */
export class BenchContext {
  readonly id = `bench${randomBytes(4).toString('hex')}`;
  readonly serverUrl = benchDatabaseUrl();
  readonly natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  readonly redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

  get databaseUrl(): string {
    const url = new URL(this.serverUrl);
    url.pathname = `/odb_${this.id}`;
    return url.toString();
  }

  async prepare(): Promise<void> {
    await runMigrations({ url: this.databaseUrl, applicationName: 'odb-bench' });
  }

  serviceEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      DATABASE_URL: this.databaseUrl,
      NATS_URL: this.natsUrl,
      REDIS_URL: this.redisUrl,
      EVENTS_NAMESPACE: this.id,
      REDIS_PREFIX: this.id,
      ...extra,
    };
  }

  /** A service as the container image runs it: the compiled build (`bench/run.ts` builds it first), the image's Node options. */
  startService(app: string, env: Record<string, string>, options: Omit<ServiceProcessOptions, 'build'> = {}): Promise<RunningService> {
    return startServiceProcess(app, { NODE_OPTIONS: SERVICE_NODE_OPTIONS, ...env }, { ...options, build: 'dist' });
  }

  /** Drops the benchmark's database, unless BENCH_KEEP_DATABASE is set (to look at its plans afterwards). */
  async dispose(): Promise<void> {
    if (process.env.BENCH_KEEP_DATABASE) {
      process.stdout.write(`  … database odb_${this.id} kept (BENCH_KEEP_DATABASE)\n`);
      return;
    }
    const admin = new Client({ connectionString: this.serverUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(`odb_${this.id}`)} WITH (FORCE)`);
    await admin.end();
  }
}

export function target(
  figures: BenchmarkResult['figures'],
  figure: string,
  op: '<' | '>' | '<=' | '>=',
  value: number,
): NonNullable<BenchmarkResult['targets']>[number] {
  const actual = figures[figure]?.value ?? NaN;
  const met = op === '<' ? actual < value : op === '>' ? actual > value : op === '<=' ? actual <= value : actual >= value;
  return { figure, op, value, met };
}

/** Nearest-rank percentile of an unsorted list. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** The pid of the process listening on a local TCP port, if this machine has one (Linux: /proc/net/tcp*, then the socket's inode among /proc/<pid>/fd). */
export function pidListeningOn(port: number): number | undefined {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines: string[] = [];
    try {
      lines = readFileSync(table, 'utf8').split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      if (fields[1]?.endsWith(`:${hex}`) && fields[3] === '0A') inodes.add(fields[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      for (const fd of readdirSync(`/proc/${entry}/fd`)) {
        const target = readlinkSync(`/proc/${entry}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode && inodes.has(inode)) return Number(entry);
      }
    } catch {
      // a process that ended or is not ours to read
    }
  }
  return undefined;
}

/** CPU time (user + system) a process has used, in seconds (Linux /proc; USER_HZ = 100); 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds the benchmark database's PostgreSQL backends (those of one
 * `application_name` when given) have used so far, by pid (same machine: read in /proc).
 */
export async function backendCpu(db: Client, applicationName?: string): Promise<Map<number, number>> {
  const { rows } = await db.query(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND ($1::text IS NULL OR application_name = $1)`,
    [applicationName ?? null],
  );
  return new Map(rows.map((row: { pid: number }) => [row.pid, cpuSeconds(row.pid)]));
}

/** CPU seconds the backends alive now have used since `before` (backends started since count from zero). */
export async function backendCpuSince(db: Client, before: Map<number, number>, applicationName?: string): Promise<number> {
  let total = 0;
  for (const [pid, now] of await backendCpu(db, applicationName)) total += now - (before.get(pid) ?? 0);
  return total;
}

/** VmRSS of a process, in MiB (Linux /proc); 0 once it is gone. */
export function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readProcStatus(pid));
  return match ? Number(match[1]) / 1024 : 0;
}

function readProcStatus(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return '';
  }
}

/** The peak RSS of a process (MiB), sampled every `intervalMs` and once more when stopped; NaN without a process to watch. */
export function watchRss(pid: number | undefined, intervalMs = 100): { peak(): number; stop(): void } {
  let peak = pid ? rssMiB(pid) : NaN;
  const sample = () => {
    if (pid) peak = Math.max(peak, rssMiB(pid));
  };
  const timer = setInterval(sample, intervalMs);
  return {
    peak: () => peak,
    stop: () => {
      clearInterval(timer);
      sample();
    },
  };
}

/**
 * Waits until consumer-query has built (and analysed) the per-type indexes it
 * manages, once it has had a moment to start; how many are valid.
 */
export async function waitForTypeIndexes(db: Client, consumer: RunningService): Promise<number> {
  const managed = async () =>
    (
      await db.query(
        `SELECT count(*) FILTER (WHERE i.indisvalid AND i.indisready)::int AS valid, count(*)::int AS all
           FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          WHERE c.relname LIKE 'record\\_et\\_%'`,
      )
    ).rows[0] as { valid: number; all: number };
  // Give the service a moment to start its reconciliation, then wait for it to finish.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const building = async () =>
    (
      await db.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'CREATE INDEX%' AND state = 'active'`,
      )
    ).rows[0].n as number;
  const allValid = async () => {
    const { all, valid } = await managed();
    return all === valid;
  };
  try {
    await waitFor(async () => (await building()) === 0 && (await allValid()), {
      timeoutMs: 30 * 60_000,
      intervalMs: 1000,
      what: 'entity type indexes',
    });
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${consumer.output().slice(-2000)}`);
  }
  const { valid } = await managed();
  if (valid === 0) return 0;
  // The service analyses after building; wait for a fresh ANALYZE to be visible.
  await waitFor(
    async () =>
      (await db.query(`SELECT last_analyze, last_autoanalyze FROM pg_stat_user_tables WHERE relname = 'record'`)).rows.length > 0,
    { timeoutMs: 60_000 },
  );
  return valid;
}
