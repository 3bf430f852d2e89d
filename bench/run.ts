/**
 * `npm run bench [-- name…]`: runs the benchmarks against the local (or
 * DATABASE_URL / NATS_URL / REDIS_URL) infrastructure, prints their figures
 * and writes them to bench/results/<name>.json and bench/results/latest.json.
 */
import { execFileSync } from 'child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import { cpus, totalmem } from 'os';
import { join } from 'path';
import { Client } from 'pg';
import { BenchContext, Benchmark, BenchmarkResult, benchDatabaseUrl } from './harness';
import { consumerBenchmark, consumerReferenceBenchmark } from './consumer.bench';
import { harvestBenchmark } from './harvest.bench';
import { ingestBenchmark, ingestReferenceBenchmark } from './ingest.bench';
import { outboxRelayBenchmark } from './outbox-relay.bench';
import { publishBenchmark } from './publish.bench';

const BENCHMARKS: Benchmark[] = [outboxRelayBenchmark, consumerBenchmark, consumerReferenceBenchmark, ingestBenchmark, ingestReferenceBenchmark, harvestBenchmark, publishBenchmark];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !BENCHMARKS.some((benchmark) => benchmark.name === name));
  if (unknown.length > 0) {
    throw new Error(`unknown benchmark(s) ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  }
  const selected = wanted.length > 0 ? BENCHMARKS.filter((benchmark) => wanted.includes(benchmark.name)) : BENCHMARKS.filter((benchmark) => !benchmark.onlyWhenNamed);
  const machine = await describeMachine();
  // Services run from the compiled build, as deployed: build it from the current sources.
  process.stdout.write(
    `PostgreSQL: ${benchDatabaseUrl()} (${machine.postgresVersion}, shared_buffers ${machine.sharedBuffers}, huge pages reserved ${machine.hugePagesMiB} MiB)\nbuilding (npm run build)…\n`,
  );
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: join(__dirname, '..'), stdio: 'inherit' });
  const directory = join(__dirname, 'results');
  mkdirSync(directory, { recursive: true });
  const results: BenchmarkResult[] = [];
  for (const benchmark of selected) {
    process.stdout.write(`\n▶ ${benchmark.name}: ${benchmark.description}\n`);
    const context = new BenchContext();
    await context.prepare();
    try {
      const result = await benchmark.run(context);
      results.push(result);
      print(result);
      writeFileSync(join(directory, `${benchmark.name}.json`), JSON.stringify(withMachine(result, machine), null, 2));
    } finally {
      await context.dispose();
    }
  }
  writeFileSync(join(directory, 'latest.json'), JSON.stringify(results.map((result) => withMachine(result, machine)), null, 2));
  const missed = results.flatMap((result) => (result.targets ?? []).filter((t) => !t.met).map((t) => `${result.name}.${t.figure}`));
  process.stdout.write(missed.length > 0 ? `\ntargets missed: ${missed.join(', ')}\n` : '\nall targets met\n');
  process.exit(missed.length > 0 ? 2 : 0);
}

function print(result: BenchmarkResult): void {
  for (const [figure, { value, unit }] of Object.entries(result.figures)) {
    process.stdout.write(`  ${figure.padEnd(28)} ${String(value).padStart(10)} ${unit}\n`);
  }
  for (const t of result.targets ?? []) {
    process.stdout.write(`  target ${t.figure} ${t.op} ${t.value}: ${t.met ? 'met' : 'MISSED'}\n`);
  }
  for (const note of result.notes ?? []) process.stdout.write(`  note: ${note}\n`);
}

/** What the report says of the machine and server the figures were measured on. */
interface MachineDescription {
  cpus: number;
  memoryGiB: number;
  node: string;
  /** The server used: its socket directory or host:port. */
  postgres: string;
  postgresVersion: string;
  /** As PostgreSQL shows it, e.g. `4GB`: catalog reads cost twice the CPU when the catalog does not fit (ADR 0008). */
  sharedBuffers: string;
  /** Huge pages this machine has reserved (`/proc/meminfo`), in MiB: PostgreSQL maps its buffers on them when there are enough. */
  hugePagesMiB: number;
}

/** Read once before the benchmarks run: the settings that move the figures. */
async function describeMachine(): Promise<MachineDescription> {
  const database = new URL(benchDatabaseUrl());
  const client = new Client({ connectionString: benchDatabaseUrl() });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT current_setting('server_version') AS version, current_setting('shared_buffers') AS shared_buffers`);
    return {
      cpus: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      postgres: database.searchParams.get('host') ?? `${database.hostname}:${database.port || 5432}`,
      postgresVersion: rows[0].version,
      sharedBuffers: rows[0].shared_buffers,
      hugePagesMiB: hugePagesMiB(),
    };
  } finally {
    await client.end();
  }
}

function hugePagesMiB(): number {
  try {
    const meminfo = readFileSync('/proc/meminfo', 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0);
    return Math.round((field('HugePages_Total') * field('Hugepagesize')) / 1024);
  } catch {
    return 0;
  }
}

function withMachine(result: BenchmarkResult, machine: MachineDescription) {
  return { ...result, at: new Date().toISOString(), machine };
}

main().catch((error) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
