import { spawn } from 'child_process';
import { mkdtempSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Client } from 'pg';
import { Pool } from 'undici';
import { recordPublicId } from '@odb/contracts';
import { RunningService } from '@odb/testing';
import { Benchmark, BenchmarkResult, SERVICE_NODE_OPTIONS, backendCpu, backendCpuSince, cpuSeconds, percentile, pidListeningOn, target, waitForTypeIndexes, watchRss } from './harness';

/**
 * The Consumer API on a million records of one entity type.
 *
 * Set-up: the entity type, its connector (promoted to live) and a policy go
 * through the real coordinator API; the 1,000,000 records are then written by
 * one `INSERT … SELECT generate_series` per 100,000 straight into the
 * `record` table (the same columns and document shape contributor-ingest
 * writes). The load bypasses the Contributor API on purpose: its speed is
 * benchmarked on its own, and pushing a million records through it would
 * only make this benchmark slow.
 *
 * Measured: consumer-query as a real process (NODE_ENV=production,
 * AUTH_MODE=local), 10 concurrent keep-alive HTTP clients in this process,
 * for each scenario a warm-up then a fixed duration: requests/s, p50 and p99
 * latency, and the service's peak RSS.
 *
 * Environment: BENCH_CONSUMER_RECORDS (default 1000000),
 * BENCH_CONSUMER_SECONDS per scenario (default 10), BENCH_CONSUMER_CLIENTS (10),
 * BENCH_CONSUMER_SCENARIOS (comma-separated names, default all),
 * BENCH_CONSUMER_NODE_OPTIONS (default: the container image's, SERVICE_NODE_OPTIONS).
 */

const SLUG = 'place';
/** application_name of consumer-query's catalog read pool: its PostgreSQL backends' CPU is the reads'. */
const CATALOG_POOL = 'consumer-query.catalog';
const POLICY = 'everything';
const CONNECTOR = 'gazetteer';
/** A country-size area (about 1,000 km × 1,000 km, mainland France). */
const AREA = { west: -4.5, east: 7.5, south: 43.0, north: 51.0 };
const CATEGORIES = 1000;

export const placeType = {
  name: 'Places',
  description: 'Named places with a location, for the consumer benchmark',
  schema: {
    type: 'object',
    properties: {
      code: { type: 'string' },
      category: { type: 'string' },
      population: { type: 'integer', minimum: 0 },
      elevation: { type: 'number' },
      rating: { type: 'number' },
      open: { type: 'boolean' },
      description: { type: 'string' },
      location: {
        type: 'object',
        properties: { type: { const: 'Point' }, coordinates: { type: 'array', items: { type: 'number' } } },
        required: ['type', 'coordinates'],
      },
    },
  },
  timeseries: {},
};

/** The path of a catalog query. */
function q(query: unknown): string {
  return `/catalog?q=${encodeURIComponent(JSON.stringify(query))}`;
}

/** The scenarios with targets: get by id, deep pages, typed catalog equality and range, `$near` 10 km. */
function targetScenarios(total: number, contributionId: string, random: () => number): Scenario[] {
  const pick = (n: number) => Math.floor(random() * n);
  const point = () => [AREA.west + random() * (AREA.east - AREA.west), AREA.south + random() * (AREA.north - AREA.south)];
  return [
    { name: 'get', next: () => `/entity/${SLUG}/${recordPublicId(contributionId, vendorId(1 + pick(total)))}` },
    { name: 'list_deep', next: () => `/entity/${SLUG}?limit=250&offset=${pick(Math.max(1, total - 249))}` },
    { name: 'catalog_eq', next: () => q({ type: SLUG, 'entity.category': `category-${pick(CATEGORIES)}` }) },
    {
      name: 'catalog_range',
      next: () => {
        const low = pick(1_000_000 - 1_000);
        return q({ type: SLUG, 'entity.population': { $gte: low, $lt: low + 1_000 } });
      },
    },
    {
      name: 'near_10km',
      next: () => q({ type: SLUG, 'entity.location': { $near: { $geometry: { type: 'Point', coordinates: point() }, $max: 10_000 } } }),
    },
  ];
}

/**
 * The target scenarios against another deployment of the BitBroker API, e.g.
 * BitBroker itself in local mode, on records loaded through its own
 * Contributor API (BENCH_REFERENCE_RECORDS, default 100,000): req/s, p50, p99,
 * and the consumer's RSS when it listens on this machine. Run it against this
 * platform too (`npm start`) for figures on the same data and loading path.
 * The deployment must be empty of the `place` type and `everything` policy.
 */
export const consumerReferenceBenchmark: Benchmark = {
  name: 'consumer-reference',
  description: 'the consumer target scenarios against another BitBroker-compatible deployment (BENCH_REFERENCE_COORDINATOR, _CONTRIBUTOR, _CONSUMER)',
  onlyWhenNamed: true,
  async run() {
    const [coordinatorUrl, contributorUrl, consumerUrl] = ['COORDINATOR', 'CONTRIBUTOR', 'CONSUMER'].map((name) => process.env[`BENCH_REFERENCE_${name}`]);
    if (!coordinatorUrl || !contributorUrl || !consumerUrl) throw new Error('set BENCH_REFERENCE_COORDINATOR, _CONTRIBUTOR and _CONSUMER to the API bases');
    const total = Number(process.env.BENCH_REFERENCE_RECORDS ?? 100_000);
    const seconds = Number(process.env.BENCH_CONSUMER_SECONDS ?? 10);
    const clients = Number(process.env.BENCH_CONSUMER_CLIENTS ?? 10);
    const contributionId = await setUpCatalog(coordinatorUrl);
    const loadStarted = Date.now();
    await contributeRecords(contributorUrl, contributionId, total);
    const figures: BenchmarkResult['figures'] = { load_records_per_second: { value: Math.round(total / ((Date.now() - loadStarted) / 1000)), unit: 'records/s' } };
    const rss = watchRss(pidListeningOn(Number(new URL(consumerUrl).port)), 200);
    const client = new LoadClient(consumerUrl, clients);
    const headers = { 'x-bbk-audience': POLICY, accept: 'application/json' };
    const notes: string[] = [`${total} records loaded through the Contributor API; ${clients} concurrent keep-alive clients`];
    try {
      for (const scenario of targetScenarios(total, contributionId, mulberry32(42))) {
        await load(client, headers, clients, 2, scenario.next);
        const result = await load(client, headers, clients, seconds, scenario.next);
        figures[`${scenario.name}_rps`] = { value: Math.round(result.count / result.seconds), unit: 'req/s' };
        figures[`${scenario.name}_p50`] = { value: round(percentile(result.latencies, 50)), unit: 'ms' };
        figures[`${scenario.name}_p99`] = { value: round(percentile(result.latencies, 99)), unit: 'ms' };
        notes.push(`${scenario.name}: ${result.meanItems.toFixed(0)} items/answer${result.errors > 0 ? `, ${result.errors} non-200 answers (${result.firstError})` : ''}`);
      }
    } finally {
      rss.stop();
      await client.close();
    }
    figures.consumer_rss_peak = { value: Math.round(rss.peak()), unit: 'MiB' };
    return { name: this.name, figures, notes };
  },
};

/** Places 1…total through stream sessions of the Contributor API, 250 a batch, 4 batches in flight. */
async function contributeRecords(api: string, contributionId: string, total: number): Promise<void> {
  const call = (method: string, path: string, body?: unknown) => callJson(api, method, path, body, (status) => status === 200);
  const sid = (await call('GET', `/connector/${contributionId}/session/open/stream`)) as string;
  const random = mulberry32(7);
  let next = 1;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next <= total) {
        const from = next;
        next += 250;
        const batch = Array.from({ length: Math.min(250, total - from + 1) }, (_, k) => placeRecord(from + k, random));
        await call('POST', `/connector/${contributionId}/session/${sid}/upsert`, batch);
      }
    }),
  );
  await call('GET', `/connector/${contributionId}/session/${sid}/close/true`);
}

/** Place i as a contributed record, with the properties the SQL loader gives it (values drawn from `random`). */
function placeRecord(i: number, random: () => number) {
  return {
    id: vendorId(i),
    name: `Place ${i}`,
    entity: {
      code: code(i),
      category: `category-${Math.floor(random() * CATEGORIES)}`,
      population: Math.floor(random() * 1_000_000),
      elevation: Math.round(random() * 300_000) / 100,
      rating: Math.round(random() * 500) / 100,
      open: random() < 1 / 3,
      description: `A generated place for the benchmark, number ${i}, with a short text of about a hundred characters.`,
      location: {
        type: 'Point',
        coordinates: [AREA.west + random() * (AREA.east - AREA.west), AREA.south + random() * (AREA.north - AREA.south)].map((v) => Math.round(v * 1e6) / 1e6),
      },
    },
    instance: { updated: '2024-01-01T00:00:00Z', source: 'generated' },
  };
}

interface Scenario {
  name: string;
  /** The next request path (under the API base). */
  next: () => string;
}

export const consumerBenchmark: Benchmark = {
  name: 'consumer',
  description: 'Consumer API on 1,000,000 records of one entity type, 10 concurrent clients',
  async run(context) {
    const total = Number(process.env.BENCH_CONSUMER_RECORDS ?? 1_000_000);
    const seconds = Number(process.env.BENCH_CONSUMER_SECONDS ?? 10);
    const clients = Number(process.env.BENCH_CONSUMER_CLIENTS ?? 10);
    const notes: string[] = [];
    const figures: BenchmarkResult['figures'] = {};

    // 1. Type, connector and policy through the coordinator API.
    const tokenFile = join(mkdtempSync(join(tmpdir(), 'odb-bench-')), 'bootstrap.token');
    const coordinator = await context.startService(
      'coordinator',
      context.serviceEnv({ NODE_ENV: 'development', AUTH_MODE: 'local', BOOTSTRAP_TOKEN_FILE: tokenFile, LOG_LEVEL: 'warn' }),
      { timeoutMs: 60_000 },
    );
    let contributionId: string;
    try {
      contributionId = await setUpCatalog(`${coordinator.url}/v1`);
    } finally {
      await coordinator.stop();
    }

    // 2. The records, by SQL.
    const db = new Client({ connectionString: context.databaseUrl });
    await db.connect();
    let consumer: RunningService | undefined;
    try {
      const loadStarted = Date.now();
      await loadRecords(db, contributionId, total);
      const loadSeconds = (Date.now() - loadStarted) / 1000;
      figures.load_records_per_second = { value: Math.round(total / loadSeconds), unit: 'records/s' };
      const vacuumStarted = Date.now();
      await db.query('VACUUM ANALYZE record');
      figures.vacuum_analyze_seconds = { value: round((Date.now() - vacuumStarted) / 1000), unit: 's' };
      const [{ size }] = (await db.query(`SELECT pg_total_relation_size('record') AS size`)).rows;
      figures.record_table_total_size = { value: Math.round(Number(size) / 2 ** 20), unit: 'MiB' };

      // 3. consumer-query as a real process; it builds the entity type's indexes when it starts.
      const indexStarted = Date.now();
      // V8 sizes its heap from the machine's memory (24 GB here) and then collects lazily: without a cap the
      // RSS of a busy process grows far past its live heap (~65 MB). The image sets one.
      const nodeOptions = process.env.BENCH_CONSUMER_NODE_OPTIONS ?? SERVICE_NODE_OPTIONS;
      consumer = await context.startService(
        'consumer-query',
        context.serviceEnv({ NODE_ENV: 'production', AUTH_MODE: 'local', LOG_LEVEL: 'warn', NODE_OPTIONS: nodeOptions }),
        { timeoutMs: 60_000 },
      );
      notes.push(`consumer-query started with NODE_OPTIONS=${nodeOptions || '(none)'}`);
      const built = await waitForTypeIndexes(db, consumer);
      if (built > 0) {
        figures.type_indexes = { value: built, unit: 'indexes' };
        figures.type_index_build_seconds = { value: round((Date.now() - indexStarted) / 1000), unit: 's' };
      }
      notes.push(await cacheFit(db));
      const pid = consumer.process.pid!;
      const rss = watchRss(pid, 200);

      const base = `${consumer.url}/v1`;
      const client = new LoadClient(base, clients);
      const headers = { 'x-bbk-audience': POLICY, accept: 'application/json' };
      await checkAnswers(client, headers, contributionId, total);

      // What this machine gives a bare Node HTTP server (no framework, no database) with the same clients: the ceiling.
      const bare = await bareHttpCeiling(clients, Math.min(5, seconds));
      figures.bare_node_http_rps = { value: bare.rps, unit: 'req/s' };
      figures.bare_node_http_p99 = { value: bare.p99, unit: 'ms' };
      process.stdout.write(`  … bare node http server: ${bare.rps} req/s, p99 ${bare.p99} ms; load ${loadAverage()}\n`);

      const random = mulberry32(42);
      const pick = (n: number) => Math.floor(random() * n);
      const scenarios: Scenario[] = [
        ...targetScenarios(total, contributionId, random),
        // Not targets: the same queries without the type, and an equality on a nearly unique value.
        { name: 'catalog_eq_untyped', next: () => q({ 'entity.category': `category-${pick(CATEGORIES)}` }) },
        {
          name: 'catalog_range_untyped',
          next: () => {
            const low = pick(1_000_000 - 1_000);
            return q({ 'entity.population': { $gte: low, $lt: low + 1_000 } });
          },
        },
        {
          name: 'catalog_range_5k',
          next: () => {
            const low = pick(1_000_000 - 5_000);
            return q({ type: SLUG, 'entity.population': { $gte: low, $lt: low + 5_000 } });
          },
        },
        { name: 'catalog_range_open', next: () => q({ type: SLUG, 'entity.population': { $gte: pick(900_000) } }) },
        { name: 'list_first_page', next: () => `/entity/${SLUG}?limit=250` },
        { name: 'catalog_eq_code', next: () => q({ type: SLUG, 'entity.code': code(1 + pick(total)) }) },
      ];
      const only = (process.env.BENCH_CONSUMER_SCENARIOS ?? '').split(',').filter(Boolean);
      for (const scenario of scenarios) {
        if (only.length > 0 && !only.includes(scenario.name)) continue;
        await load(client, headers, clients, 2, scenario.next); // warm-up
        const cpuBefore = cpuSeconds(pid);
        const dbBefore = await backendCpu(db, CATALOG_POOL);
        const result = await load(client, headers, clients, seconds, scenario.next);
        const dbCpu = await backendCpuSince(db, dbBefore, CATALOG_POOL);
        figures[`${scenario.name}_consumer_cpu`] = { value: Math.round(((cpuSeconds(pid) - cpuBefore) * 1e6) / Math.max(1, result.count)), unit: 'µs/req' };
        figures[`${scenario.name}_postgres_cpu`] = { value: Math.round((dbCpu * 1e6) / Math.max(1, result.count)), unit: 'µs/req' };
        figures[`${scenario.name}_rps`] = { value: Math.round(result.count / result.seconds), unit: 'req/s' };
        figures[`${scenario.name}_p50`] = { value: round(percentile(result.latencies, 50)), unit: 'ms' };
        figures[`${scenario.name}_p99`] = { value: round(percentile(result.latencies, 99)), unit: 'ms' };
        if (result.errors > 0) notes.push(`${scenario.name}: ${result.errors} non-200 answers (${result.firstError})`);
        process.stdout.write(
          `  … ${scenario.name}: ${figures[`${scenario.name}_rps`].value} req/s, p50 ${figures[`${scenario.name}_p50`].value} ms, p99 ${figures[`${scenario.name}_p99`].value} ms, ` +
            `${result.meanItems.toFixed(0)} items/answer, CPU µs/req: consumer ${figures[`${scenario.name}_consumer_cpu`].value}, ` +
            `PostgreSQL ${figures[`${scenario.name}_postgres_cpu`].value}; load ${loadAverage()}\n`,
        );
      }
      rss.stop();
      await client.close();
      figures.consumer_rss_peak = { value: Math.round(rss.peak()), unit: 'MiB' };
      notes.push(
        `${total} records of one type loaded by SQL (bypassing the Contributor API); ${clients} concurrent keep-alive clients in the benchmark process, on the same machine as PostgreSQL and the service`,
      );
    } finally {
      await consumer?.stop();
      await db.end();
    }

    const targets = [
      target(figures, 'get_rps', '>=', 3000),
      target(figures, 'get_p99', '<', 20),
      target(figures, 'list_deep_p99', '<', 50),
      target(figures, 'catalog_eq_p99', '<', 50),
      target(figures, 'catalog_range_p99', '<', 50),
      target(figures, 'near_10km_p99', '<', 100),
      target(figures, 'consumer_rss_peak', '<', 300),
    ].filter((t) => t.figure in figures);
    return { name: this.name, figures, targets, notes };
  },
};

/**
 * Whether the record table and its indexes fit in PostgreSQL's shared buffers.
 * When they do not, every page a read touches is copied in from the OS cache
 * first: a catalog range spent 5.4 ms of PostgreSQL CPU instead of 2.0–2.3, and its
 * p99 went from 26–35 to 85 ms (ADR 0008).
 */
async function cacheFit(db: Client): Promise<string> {
  const { rows } = await db.query(
    `SELECT pg_total_relation_size('record') AS catalog, pg_size_bytes(current_setting('shared_buffers')) AS buffers, current_setting('shared_buffers') AS setting`,
  );
  const [{ catalog, buffers, setting }] = rows;
  const mib = (bytes: string) => `${Math.round(Number(bytes) / 2 ** 20)} MiB`;
  return Number(catalog) <= Number(buffers)
    ? `the record table with its indexes (${mib(catalog)}) fits in shared_buffers (${setting})`
    : `WARNING: the record table with its indexes (${mib(catalog)}) does not fit in shared_buffers (${setting}): page reads go through the OS cache and cost about twice the CPU (ADR 0008)`;
}

/** A JSON call to an API base; its parsed answer, or an error naming the call when `accepted` refuses the status (default: any 2xx). */
async function callJson(api: string, method: string, path: string, body?: unknown, accepted = (status: number) => status < 300): Promise<any> {
  const response = await fetch(`${api}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!accepted(response.status)) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

async function setUpCatalog(api: string): Promise<string> {
  const call = (method: string, path: string, body?: unknown) => callJson(api, method, path, body);
  await call('POST', `/entity/${SLUG}`, placeType);
  const connector = await call('POST', `/entity/${SLUG}/connector/${CONNECTOR}`, {
    name: 'Gazetteer',
    description: 'Generated places',
    webhook: null,
    cache: 0,
  });
  await call('POST', `/entity/${SLUG}/connector/${CONNECTOR}/live`);
  await call('POST', `/policy/${POLICY}`, {
    name: 'Everything',
    description: 'Every record',
    policy: {
      access_control: { enabled: true, quota: { max_number: 86400, interval_type: 'day' }, rate: 250 },
      data_segment: { segment_query: {}, field_masks: [] },
      legal_context: [{ type: 'attribution', text: 'Generated', link: 'https://example.org/' }],
    },
  });
  return connector.id as string;
}

export function vendorId(i: number): string {
  return `place-${i}`;
}

export function code(i: number): string {
  return `P${String(i).padStart(7, '0')}`;
}

/**
 * ~400-byte documents as contributor-ingest stores them ({id, name, type,
 * entity, instance, timeseries}), deterministic from the row number: a code,
 * one of 1,000 categories, a population (0–1,000,000), numbers, a flag, a
 * description and a GeoJSON Point spread uniformly over the area.
 */
async function loadRecords(db: Client, contributionId: string, total: number): Promise<void> {
  await db.query('CREATE EXTENSION IF NOT EXISTS pgcrypto');
  const [{ id: connectorId, entity_type_id: typeId }] = (
    await db.query(`SELECT id, entity_type_id FROM connector WHERE contribution_id = $1`, [contributionId])
  ).rows;
  const chunk = 100_000;
  for (let from = 1; from <= total; from += chunk) {
    const to = Math.min(total, from + chunk - 1);
    await db.query(
      `INSERT INTO record (public_id, connector_id, entity_type_id, vendor_id, name, document)
       SELECT encode(digest($1 || ':' || v, 'sha1'), 'hex'), $2, $3, v, n,
              jsonb_build_object(
                'id', v, 'name', n, 'type', $4::text,
                'entity', jsonb_build_object(
                  'code', 'P' || lpad(i::text, 7, '0'),
                  'category', 'category-' || (h % ${CATEGORIES}),
                  'population', (h2 % 1000000),
                  'elevation', round(((h % 300000) / 100.0)::numeric, 2),
                  'rating', round(((h2 % 500) / 100.0)::numeric, 2),
                  'open', (h % 3) = 0,
                  'description', 'A generated place for the benchmark, number ' || i || ', with a short text of about a hundred characters.',
                  'location', jsonb_build_object('type', 'Point', 'coordinates', jsonb_build_array(
                    round((${AREA.west} + (h % 1000003) / 1000003.0 * ${AREA.east - AREA.west})::numeric, 6),
                    round((${AREA.south} + (h2 % 999983) / 999983.0 * ${AREA.north - AREA.south})::numeric, 6)))),
                'instance', jsonb_build_object('updated', '2024-01-01T00:00:00Z', 'source', 'generated'),
                'timeseries', '{}'::jsonb)
         FROM generate_series($5::int, $6::int) AS i,
              LATERAL (SELECT 'place-' || i AS v, 'Place ' || i AS n,
                              abs(hashint4(i))::bigint AS h, abs(hashint4(i + 7919))::bigint AS h2) AS x
        ORDER BY i`,
      [contributionId, connectorId, typeId, SLUG, from, to],
    );
    process.stdout.write(`  … loaded ${to} records\n`);
  }
}

/** A trivial Node HTTP server in its own process (a 1 kB JSON answer), driven by the same load generator. */
async function bareHttpCeiling(clients: number, seconds: number): Promise<{ rps: number; p99: number }> {
  const server = spawn(
    process.execPath,
    ['-e', `const b=JSON.stringify({x:'y'.repeat(1000)});require('http').createServer((q,r)=>{r.setHeader('content-type','application/json');r.end(b)}).listen(0,'127.0.0.1',function(){process.stdout.write(String(this.address().port)+'\\n')})`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.stdout!.once('data', (chunk: Buffer) => resolve(Number(String(chunk).trim())));
      server.once('exit', () => reject(new Error('bare server exited')));
    });
    const client = new LoadClient(`http://127.0.0.1:${port}`, clients);
    const result = await load(client, {}, clients, seconds, () => '/');
    await client.close();
    return { rps: Math.round(result.count / result.seconds), p99: round(percentile(result.latencies, 99)) };
  } finally {
    server.kill();
  }
}

/** A few answers checked for content, so that fast does not mean wrong. */
async function checkAnswers(client: LoadClient, headers: Record<string, string>, contributionId: string, total: number): Promise<void> {
  const deep = Math.max(0, total - 1000);
  const page = JSON.parse((await client.get(headers, `/entity/${SLUG}?limit=3&offset=${deep}`)).body);
  const expected = [deep + 1, deep + 2, deep + 3].map((i) => recordPublicId(contributionId, vendorId(i)));
  if (JSON.stringify(page.map((item: { id: string }) => item.id)) !== JSON.stringify(expected)) {
    throw new Error(`offset ${deep} answered ${JSON.stringify(page).slice(0, 300)}`);
  }
  const one = JSON.parse((await client.get(headers, `/entity/${SLUG}/${recordPublicId(contributionId, vendorId(7))}`)).body);
  if (one.entity?.code !== code(7)) throw new Error(`record 7 answered ${JSON.stringify(one).slice(0, 300)}`);
  const q = encodeURIComponent(JSON.stringify({ type: SLUG, 'entity.code': code(total) }));
  const found = JSON.parse((await client.get(headers, `/catalog?q=${q}`)).body);
  if (found.length !== 1 || found[0].id !== recordPublicId(contributionId, vendorId(total))) {
    throw new Error(`catalog by code answered ${JSON.stringify(found).slice(0, 300)}`);
  }
}

/**
 * The load generator's HTTP client: undici (the client under Node's fetch),
 * one keep-alive connection per simulated client. It costs about a third
 * less CPU per request than node:http's client, CPU the service and
 * PostgreSQL share with it on this machine.
 */
class LoadClient {
  private readonly pool: Pool;
  private readonly prefix: string;

  constructor(base: string, connections: number) {
    const url = new URL(base);
    this.pool = new Pool(url.origin, { connections, pipelining: 1 });
    this.prefix = url.pathname.replace(/\/$/, '');
  }

  async get(headers: Record<string, string>, path: string): Promise<{ status: number; body: string }> {
    const response = await this.pool.request({ method: 'GET', path: `${this.prefix}${path}`, headers });
    return { status: response.statusCode, body: await response.body.text() };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

async function load(
  client: LoadClient,
  headers: Record<string, string>,
  clients: number,
  seconds: number,
  next: () => string,
): Promise<{ count: number; errors: number; firstError?: string; latencies: number[]; seconds: number; meanItems: number }> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let items = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        const path = next();
        const t0 = performance.now();
        const { status, body } = await client.get(headers, path);
        latencies.push(performance.now() - t0);
        if (status !== 200) {
          errors += 1;
          firstError ??= `${status} ${path} ${body.slice(0, 200)}`;
        } else if (body.startsWith('[')) {
          items += countItems(body);
        } else {
          items += 1;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { count: latencies.length, errors, firstError, latencies, seconds: elapsed, meanItems: items / Math.max(1, latencies.length) };
}

/** Items in a JSON array answer of briefs (each has one "url" key), without parsing it. */
function countItems(body: string): number {
  return body.match(/"url"\s*:/g)?.length ?? 0;
}

/** The 1-minute load average, for the progress lines. */
function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  } catch {
    return '?';
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** A small seeded PRNG, so that runs ask the same things. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
