import { randomBytes } from 'crypto';
import { mkdtempSync } from 'fs';
import { Agent, request } from 'http';
import { loadavg, tmpdir } from 'os';
import { join } from 'path';
import { Client } from 'pg';
import { RunningService } from '@odb/testing';
import { Benchmark, BenchmarkResult, backendCpu, backendCpuSince, cpuSeconds, percentile, pidListeningOn, target, waitForTypeIndexes, watchRss } from './harness';

const CONNECTORS = 4;
const BATCH = 250;
const STREAM_SECONDS = Number(process.env.BENCH_INGEST_SECONDS ?? 20);
const COMMIT_OPERATIONS = 100_000;

/** A realistic entity schema: ten typed properties, two of them required, ranges, an enum, a GeoJSON point. */
const sensorType = {
  name: 'Air quality sensors',
  description: 'Street-level air quality stations',
  schema: {
    type: 'object',
    required: ['station', 'location'],
    properties: {
      station: { type: 'string', minLength: 1, maxLength: 64 },
      operator: { type: 'string' },
      status: { type: 'string', enum: ['active', 'maintenance', 'retired'] },
      installed: { type: 'string', format: 'date' },
      height: { type: 'number', minimum: 0, maximum: 100 },
      pm25: { type: 'number', minimum: 0 },
      pm10: { type: 'number', minimum: 0 },
      no2: { type: 'integer', minimum: 0 },
      tags: { type: 'array', items: { type: 'string' }, maxItems: 8 },
      location: {
        type: 'object',
        required: ['type', 'coordinates'],
        properties: { type: { const: 'Point' }, coordinates: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 } },
      },
    },
  },
  timeseries: {},
};

/**
 * About 400 bytes of JSON per record. Written as text from a template (ids
 * are plain ASCII): the load generator shares the two cores with what it
 * measures, and JSON.stringify of each record cost it 3 µs of the ~100 a
 * record may take in all.
 */
function sensorRecord(id: string, n: number): string {
  const lon = -0.1276 + (n % 1000) / 10000;
  const lat = 51.5072 + (n % 777) / 10000;
  return (
    `{"id":"${id}","name":"Air quality station ${id}","entity":{"station":"ST-${id}","operator":"City environment department",` +
    `"status":"${n % 17 === 0 ? 'maintenance' : 'active'}","installed":"2021-03-15","height":3.5,"pm25":${(n % 500) / 10},` +
    `"pm10":${(n % 900) / 10},"no2":${n % 120},"tags":["urban","traffic","north"],"location":{"type":"Point","coordinates":[${lon},${lat}]}},` +
    `"instance":{"firmware":"4.2.1","lastCalibration":"2024-01-10"}}`
  );
}

/** Which step of SessionStore's commit a statement is. */
function commitPhase(query: string): string {
  if (query.includes('gin_clean_pending_list')) return 'gin merge';
  if (query.includes('CREATE TEMP TABLE session_final')) return 'final state';
  if (query.includes('ANALYZE')) return 'analyze';
  if (query.includes('INSERT INTO session_gone')) return 'deletions';
  if (query.includes('INSERT INTO record')) return 'upsert';
  if (query.includes('WITH removed')) return 'deletion events';
  if (query.includes('DELETE FROM session_operation')) return 'drop operations';
  if (query.includes('count(*)')) return 'count';
  if (/^(COMMIT|BEGIN|SET|START)/i.test(query.trim())) return 'transaction';
  return 'other';
}

/** Minimal keep-alive HTTP client: the load generator shares the two cores, so it has to be cheap. */
class Http {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: CONNECTORS * 2 });

  constructor(private readonly base: URL) {}

  call(method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.base.hostname,
          port: this.base.port,
          method,
          path: `${this.base.pathname}${path}`,
          headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async json<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const { status, text } = await this.call(method, path, body === undefined ? undefined : JSON.stringify(body));
    if (status >= 300) throw new Error(`${method} ${path}: ${status} ${text.slice(0, 500)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * The same workload against another deployment of the BitBroker API (its
 * wire compatibility is what makes this possible), e.g. BitBroker itself in
 * local mode: BENCH_REFERENCE_COORDINATOR and BENCH_REFERENCE_CONTRIBUTOR are
 * the two API bases (`http://host:port/v1`). Only HTTP is observed: records/s
 * as answered, batch latency, the commit's duration and, when the contributor
 * listens on this machine, its RSS.
 */
export const ingestReferenceBenchmark: Benchmark = {
  name: 'ingest-reference',
  description: 'the ingest workload against another BitBroker-compatible deployment (BENCH_REFERENCE_COORDINATOR, BENCH_REFERENCE_CONTRIBUTOR)',
  onlyWhenNamed: true,
  async run() {
    const [coordinatorUrl, contributorUrl] = [process.env.BENCH_REFERENCE_COORDINATOR, process.env.BENCH_REFERENCE_CONTRIBUTOR];
    if (!coordinatorUrl || !contributorUrl) throw new Error('set BENCH_REFERENCE_COORDINATOR and BENCH_REFERENCE_CONTRIBUTOR to the API bases');
    const operations = Number(process.env.BENCH_REFERENCE_COMMIT_OPERATIONS ?? COMMIT_OPERATIONS);
    const admin = new Http(new URL(coordinatorUrl));
    const api = new Http(new URL(contributorUrl));
    const notes: string[] = [`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`];
    const pid = pidListeningOn(Number(new URL(contributorUrl).port));
    const rss = watchRss(pid);
    try {
      // A type of its own per run, so that runs never meet earlier data.
      const slug = `bench${randomBytes(3).toString('hex')}`;
      await admin.json('POST', `/entity/${slug}`, sensorType);
      const contributionIds: string[] = [];
      for (let i = 0; i < CONNECTORS + 1; i += 1) {
        contributionIds.push((await admin.json<{ id: string }>('POST', `/entity/${slug}/connector/feed-${i}`, { name: `Feed ${i}`, description: 'Bench feed' })).id);
      }
      const sessions = await Promise.all(
        contributionIds.slice(0, CONNECTORS).map(async (cid) => ({ cid, sid: await api.json<string>('GET', `/connector/${cid}/session/open/stream`) })),
      );
      await streamBatches(api, sessions, 2, 'warm');
      const started = Date.now();
      const { accepted, latencies } = await streamBatches(api, sessions, STREAM_SECONDS, 'stream');
      const seconds = (Date.now() - started) / 1000;
      await Promise.all(sessions.map(({ cid, sid }) => api.json('GET', `/connector/${cid}/session/${sid}/close/true`)));
      const commitSeconds = await accrueCommit(api, contributionIds[CONNECTORS], operations);
      notes.push(`${accepted} records answered in ${seconds.toFixed(1)} s; commit of ${operations} accrue operations`);
      notes.push(pid ? `contributor process ${pid}` : 'contributor process not found on this machine: no RSS');
      const figures: BenchmarkResult['figures'] = {
        records_per_second: { value: Math.round(accepted / seconds), unit: 'records/s' },
        batch_latency_p50: { value: Math.round(percentile(latencies, 50) * 10) / 10, unit: 'ms' },
        batch_latency_p99: { value: Math.round(percentile(latencies, 99) * 10) / 10, unit: 'ms' },
        contributor_rss_mb: { value: Math.round(rss.peak()), unit: 'MB' },
        commit_seconds: { value: Math.round(commitSeconds * 100) / 100, unit: 's' },
      };
      return { name: this.name, figures, notes };
    } finally {
      rss.stop();
      admin.close();
      api.close();
    }
  },
};

/** Buffers `operations` upserts in an accrue session (4 writers), then commits it; the commit's duration in seconds. */
async function accrueCommit(api: Http, cid: string, operations: number): Promise<number> {
  const sid = await api.json<string>('GET', `/connector/${cid}/session/open/accrue`);
  await bufferUpserts(api, cid, sid, operations);
  const started = process.hrtime.bigint();
  const closed = await api.call('GET', `/connector/${cid}/session/${sid}/close/true`);
  if (closed.status !== 200) throw new Error(`commit failed: ${closed.status} ${closed.text.slice(0, 300)}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Posts `operations` new records to a buffered session, 250 a batch, from 4 writers at once. */
async function bufferUpserts(api: Http, cid: string, sid: string, operations: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONNECTORS }, async () => {
      while (next < operations) {
        const from = next;
        next += BATCH;
        const body = `[${Array.from({ length: Math.min(BATCH, operations - from) }, (_, i) => sensorRecord(`accrue-${from + i}`, from + i)).join(',')}]`;
        const { status, text } = await api.call('POST', `/connector/${cid}/session/${sid}/upsert`, body);
        if (status !== 200) throw new Error(`accrue batch refused: ${status} ${text.slice(0, 300)}`);
      }
    }),
  );
}

/** Streams 250-record batches of new records on every session at once for `seconds`; the batches' latencies. */
async function streamBatches(api: Http, sessions: Array<{ cid: string; sid: string }>, seconds: number, prefix: string) {
  const latencies: number[] = [];
  let accepted = 0;
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(
    sessions.map(async ({ cid, sid }, c) => {
      const path = `/connector/${cid}/session/${sid}/upsert`;
      for (let batch = 0; Date.now() < deadline; batch += 1) {
        const body = `[${Array.from({ length: BATCH }, (_, i) => sensorRecord(`${prefix}-c${c}-b${batch}-r${i}`, batch * BATCH + i)).join(',')}]`;
        const sent = process.hrtime.bigint();
        const { status, text } = await api.call('POST', path, body);
        latencies.push(Number(process.hrtime.bigint() - sent) / 1e6);
        if (status !== 200) throw new Error(`batch refused: ${status} ${text.slice(0, 300)}`);
        accepted += BATCH;
      }
    }),
  );
  return { accepted, latencies };
}

/** Until every event committed so far has been relayed. */
async function outboxDrained(db: Client): Promise<void> {
  while ((await db.query(`SELECT count(*)::int AS n FROM outbox_event`)).rows[0].n > 0) await new Promise((resolve) => setTimeout(resolve, 20));
}

/**
 * Contributor ingest as deployed (real processes, NODE_ENV=production):
 * 1. four connectors streaming 250-record batches of ~400-byte records
 *    validated against a JSON Schema, for ~20 s; committed records per second
 *    counted in the table once the outbox is drained (events included),
 *    batch latency, the ingest process's peak RSS;
 * 2. an accrue session of 100,000 buffered operations committed by close/true;
 * 3. the stream again, for half as long, with consumer-query running: its
 *    per-type indexes (one per declared property) make every write dearer.
 */
export const ingestBenchmark: Benchmark = {
  name: 'ingest',
  description: `${CONNECTORS} connectors streaming ${BATCH}-record batches for ${STREAM_SECONDS} s; commit of a ${COMMIT_OPERATIONS.toLocaleString('en')}-operation accrue session; the stream again with consumer-query's per-type indexes`,
  async run(context) {
    // Production mode refuses the development secrets: the coordinator gets its own.
    const env = context.serviceEnv({ AUTH_MODE: 'local', APP_SECRET: `bench-secret-${context.id}`, SECRETS_KEY: randomBytes(32).toString('base64') });
    const tokenFile = join(mkdtempSync(join(tmpdir(), 'odb-bench-')), 'bootstrap.token');
    const db = new Client({ connectionString: context.databaseUrl });
    await db.connect();
    let coordinator: RunningService | undefined;
    let ingest: RunningService | undefined;
    let consumer: RunningService | undefined;
    const notes: string[] = [`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`];
    try {
      [coordinator, ingest] = await Promise.all([
        context.startService('coordinator', { ...env, BOOTSTRAP_TOKEN_FILE: tokenFile }, { waitFor: 'ready', timeoutMs: 60_000 }),
        context.startService('contributor-ingest', env, { waitFor: 'ready', timeoutMs: 60_000 }),
      ]);
      const admin = new Http(new URL(`${coordinator.url}/v1`));
      const api = new Http(new URL(`${ingest.url}/v1`));
      await admin.json('POST', '/entity/sensor', sensorType);
      const contributionIds: string[] = [];
      for (let i = 0; i < CONNECTORS + 1; i += 1) {
        const created = await admin.json<{ id: string }>('POST', `/entity/sensor/connector/feed-${i}`, { name: `Feed ${i}`, description: 'Bench feed' });
        contributionIds.push(created.id);
      }
      const ingestPid = ingest.process.pid!;
      const rss = watchRss(ingestPid);

      // Warm-up: one batch per connector (JIT, validator compilation, connection pool).
      const sessions = await Promise.all(contributionIds.slice(0, CONNECTORS).map((cid) => api.json<string>('GET', `/connector/${cid}/session/open/stream`)));
      await Promise.all(
        sessions.map((sid, c) =>
          api.json('POST', `/connector/${contributionIds[c]}/session/${sid}/upsert`, JSON.parse(`[${Array.from({ length: BATCH }, (_, i) => sensorRecord(`warm-${i}`, i)).join(',')}]`)),
        ),
      );
      const warm = CONNECTORS * BATCH;

      // Scenario 1: stream sessions.
      const cpuBefore = { ingest: cpuSeconds(ingestPid), generator: process.cpuUsage(), postgres: await backendCpu(db) };
      const started = Date.now();
      const { accepted, latencies } = await streamBatches(api, sessions.map((sid, c) => ({ cid: contributionIds[c], sid })), STREAM_SECONDS, 'stream');
      const answered = Date.now();
      // Committed means in the table, with its events relayed.
      await outboxDrained(db);
      const drained = Date.now();
      const committed = (await db.query(`SELECT count(*)::int AS n FROM record`)).rows[0].n - warm;
      if (committed !== accepted) throw new Error(`${accepted} records accepted but ${committed} in the table`);
      const streamRssPeak = rss.peak();
      const postgresCpu = await backendCpuSince(db, cpuBefore.postgres);
      const generatorCpu = process.cpuUsage(cpuBefore.generator);
      notes.push(
        `CPU during the stream scenario: ingest ${(cpuSeconds(ingestPid) - cpuBefore.ingest).toFixed(1)} s, ` +
          `PostgreSQL backends of this database ${postgresCpu.toFixed(1)} s, load generator ${((generatorCpu.user + generatorCpu.system) / 1e6).toFixed(1)} s`,
      );
      const seconds = (drained - started) / 1000;
      notes.push(
        `${committed} records in ${latencies.length} batches; answered in ${((answered - started) / 1000).toFixed(1)} s, outbox drained ${drained - answered} ms later`,
      );
      await Promise.all(sessions.map((sid, c) => api.json('GET', `/connector/${contributionIds[c]}/session/${sid}/close/true`)));

      // Scenario 2: an accrue session of 100,000 operations, committed in one transaction.
      const cid = contributionIds[CONNECTORS];
      const sid = await api.json<string>('GET', `/connector/${cid}/session/open/accrue`);
      const bufferStarted = Date.now();
      await bufferUpserts(api, cid, sid, COMMIT_OPERATIONS);
      const bufferSeconds = (Date.now() - bufferStarted) / 1000;
      // Where the commit's time goes: the statement the ingest's backend is running, sampled.
      const monitor = new Client({ connectionString: context.databaseUrl });
      await monitor.connect();
      const phases = new Map<string, number>();
      const waits = new Map<string, number>();
      const committer = new Map<number, number>();
      let sampling = true;
      const sampler2 = (async () => {
        while (sampling) {
          const { rows } = await monitor.query(
            `SELECT pid, query, coalesce(wait_event_type || ':' || wait_event, 'on CPU') AS wait FROM pg_stat_activity
              WHERE datname = current_database() AND application_name = 'contributor-ingest' AND state = 'active'`,
          );
          for (const { pid, query, wait } of rows as Array<{ pid: number; query: string; wait: string }>) {
            phases.set(commitPhase(query), (phases.get(commitPhase(query)) ?? 0) + 1);
            waits.set(wait, (waits.get(wait) ?? 0) + 1);
            if (!committer.has(pid)) committer.set(pid, cpuSeconds(pid));
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      const commitStarted = process.hrtime.bigint();
      const closed = await api.call('GET', `/connector/${cid}/session/${sid}/close/true`);
      const commitSeconds = Number(process.hrtime.bigint() - commitStarted) / 1e9;
      sampling = false;
      await sampler2;
      if (closed.status !== 200) throw new Error(`commit failed: ${closed.status} ${closed.text}`);
      const samples = [...phases.values()].reduce((a, b) => a + b, 0);
      notes.push(
        `commit phases (share of pg_stat_activity samples): ${[...phases]
          .filter(([phase]) => phase !== 'gin merge')
          .sort((a, b) => b[1] - a[1])
          .map(([phase, n]) => `${phase} ${Math.round((100 * n) / samples)}%`)
          .join(', ')}`,
      );
      const waitSamples = [...waits.values()].reduce((a, b) => a + b, 0);
      notes.push(
        `commit backend states: ${[...waits]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 5)
          .map(([wait, n]) => `${wait} ${Math.round((100 * n) / waitSamples)}%`)
          .join(', ')}; CPU used by the backends seen committing: ${[...committer]
          .map(([pid, before]) => (cpuSeconds(pid) - before).toFixed(1))
          .join(' + ')} s`,
      );
      // The GIN entries the commit deferred are merged right after it, in the background.
      const mergeStarted = Date.now();
      const merging = async () =>
        (
          await monitor.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND state = 'active' AND query LIKE '%gin_clean_pending_list%' AND pid <> pg_backend_pid()`,
          )
        ).rows[0].n > 0;
      let seen = false;
      while (Date.now() - mergeStarted < 2000 && !(seen = await merging())) await new Promise((resolve) => setTimeout(resolve, 10));
      while (seen && (await merging())) await new Promise((resolve) => setTimeout(resolve, 50));
      notes.push(
        seen
          ? `background GIN pending-list merge after the commit: done ${((Date.now() - mergeStarted) / 1000).toFixed(1)} s after the answer`
          : 'no background GIN merge seen after the commit',
      );
      await monitor.end();
      const applied = (
        await db.query(`SELECT count(*)::int AS n FROM record r JOIN connector c ON c.id = r.connector_id WHERE c.contribution_id = $1`, [cid])
      ).rows[0].n;
      if (applied !== COMMIT_OPERATIONS) throw new Error(`commit applied ${applied} records, not ${COMMIT_OPERATIONS}`);
      notes.push(`accrue session buffered in ${bufferSeconds.toFixed(1)} s (${Math.round(COMMIT_OPERATIONS / bufferSeconds)} operations/s)`);

      // Scenario 3: the same stream with consumer-query running, which gives the type an index per declared
      // property (TYPE_INDEXES): what a deployment that queries these fields pays on every write.
      consumer = await context.startService('consumer-query', env, { waitFor: 'ready', timeoutMs: 60_000 });
      const indexes = await waitForTypeIndexes(db, consumer);
      const indexedSessions = await Promise.all(
        contributionIds.slice(0, CONNECTORS).map(async (cid) => ({ cid, sid: await api.json<string>('GET', `/connector/${cid}/session/open/stream`) })),
      );
      const indexedStarted = Date.now();
      const indexed = await streamBatches(api, indexedSessions, STREAM_SECONDS / 2, 'indexed');
      await outboxDrained(db);
      const indexedSeconds = (Date.now() - indexedStarted) / 1000;
      notes.push(
        `with consumer-query's ${indexes} per-type indexes on the sensor type: ${Math.round(indexed.accepted / indexedSeconds)} records/s, ` +
          `batch p50 ${percentile(indexed.latencies, 50).toFixed(1)} ms, p99 ${percentile(indexed.latencies, 99).toFixed(1)} ms`,
      );
      rss.stop();
      notes.push(`ingest RSS peak over all scenarios: ${Math.round(rss.peak())} MB`);
      notes.push(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
      admin.close();
      api.close();

      const figures: BenchmarkResult['figures'] = {
        records_per_second: { value: Math.round(committed / seconds), unit: 'records/s' },
        batch_latency_p50: { value: Math.round(percentile(latencies, 50) * 10) / 10, unit: 'ms' },
        batch_latency_p99: { value: Math.round(percentile(latencies, 99) * 10) / 10, unit: 'ms' },
        ingest_rss_mb: { value: Math.round(streamRssPeak), unit: 'MB' },
        commit_seconds: { value: Math.round(commitSeconds * 100) / 100, unit: 's' },
      };
      return {
        name: this.name,
        figures,
        targets: [
          target(figures, 'records_per_second', '>=', 20_000),
          target(figures, 'ingest_rss_mb', '<', 300),
          target(figures, 'commit_seconds', '<', 5),
        ],
        notes,
      };
    } finally {
      // SIGTERM, so that a process started with NODE_OPTIONS=--cpu-prof writes its profile.
      await Promise.all([coordinator?.stop(), ingest?.stop(), consumer?.stop()]);
      await db.end();
    }
  },
};
