import { randomBytes } from 'crypto';
import { Client } from 'pg';
import { FakeResponse, FakeUdata, RunningService, waitFor } from '@odb/testing';
import { Benchmark, BenchmarkResult, percentile, target } from './harness';

/**
 * Publishing to a remote catalog (a local fake udata), through the real
 * services: coordinator and catalog publisher as processes, the publisher
 * with its defaults (1 s debounce, 8 pushes at once).
 *
 * 1. Latency: one metadata change at a time (PUT /entity/:eid/metadata) on
 *    already published entity types, timed from the API call to the moment
 *    the remote dataset shows it.
 * 2. Bulk: 1,000 entity types published (first publication: one create
 *    each), then all changed at once (read-merge-write: a read and a write
 *    each), the remote refusing more than 20 requests/s (429). The publisher
 *    paces itself to stay under it (PUBLISH_REQUESTS_PER_SECOND).
 *
 * Environment: BENCH_PUBLISH_SAMPLES (default 40), BENCH_PUBLISH_TYPES (1000),
 * BENCH_PUBLISH_REMOTE_RPS (20), BENCH_PUBLISH_PACE_RPS (19).
 */
export const publishBenchmark: Benchmark = {
  name: 'publish',
  description: 'metadata change → remote udata updated (1 s debounce); 1,000 entity types changed at once under a 20 req/s remote limit',
  async run(context) {
    const samples = Number(process.env.BENCH_PUBLISH_SAMPLES ?? 40);
    const bulk = Number(process.env.BENCH_PUBLISH_TYPES ?? 1000);
    const remoteLimit = Number(process.env.BENCH_PUBLISH_REMOTE_RPS ?? 20);
    const pace = Number(process.env.BENCH_PUBLISH_PACE_RPS ?? 19);
    const figures: BenchmarkResult['figures'] = {};
    const notes: string[] = [];

    const apiKey = randomBytes(16).toString('hex');
    const udata = await new CountingUdata({ apiKey, organizations: ['Bench org'] }).start();
    const organization = [...udata.organizations.values()][0].id;
    const secrets = { SECRETS_KEY: randomBytes(32).toString('base64') };
    const services: RunningService[] = [];
    const db = new Client({ connectionString: context.databaseUrl });
    try {
      const coordinator = await context.startService(
        'coordinator',
        context.serviceEnv({ NODE_ENV: 'development', AUTH_MODE: 'local', LOG_LEVEL: 'warn', BOOTSTRAP_TOKEN_FILE: `/tmp/odb-bench-${context.id}.token`, ...secrets }),
        { timeoutMs: 60_000 },
      );
      services.push(coordinator);
      const publisher = await context.startService(
        'catalog-publisher',
        context.serviceEnv({
          LOG_LEVEL: 'warn',
          REMOTE_ALLOWED_HOSTS: udata.host,
          PUBLISH_REQUESTS_PER_SECOND: String(pace),
          PUBLIC_CONSUMER_URL: 'https://data.example.org/consumer/v1',
          ...secrets,
        }),
        { timeoutMs: 60_000, waitFor: 'ready' },
      );
      services.push(publisher);
      const api = new Api(`${coordinator.url}/v1`);
      await db.connect();
      await api.call('POST', '/remote-catalog/datagouv', { type: 'udata', url: udata.url, name: 'Bench udata', organization, api_key: apiKey });

      const publishedCount = async () =>
        Number(
          (await db.query(`SELECT count(*) AS n FROM publication WHERE status = 'done' AND pushed_version = requested_version`)).rows[0].n,
        );
      const remoteOf = async (slug: string) =>
        (await db.query(`SELECT remote_id FROM publication WHERE entity_type_slug = $1`, [slug])).rows[0]?.remote_id as string | undefined;

      // 1. Latency of single changes.
      const latencyTypes = Array.from({ length: 10 }, (_, i) => `latency-${i}`);
      for (const slug of latencyTypes) {
        await api.call('POST', `/entity/${slug}`, { name: `Latency ${slug}`, description: 'Latency probe', tags: ['bench'] });
        await api.call('PUT', `/entity/${slug}/publication/datagouv`, {});
      }
      await waitFor(async () => (await publishedCount()) === latencyTypes.length, { timeoutMs: 60_000, intervalMs: 50, what: 'latency types published' });
      const remoteIds: Array<string | undefined> = [];
      for (const slug of latencyTypes) remoteIds.push(await remoteOf(slug));
      const latencies: number[] = [];
      for (let i = 0; i < samples; i += 1) {
        const slug = latencyTypes[i % latencyTypes.length];
        const keyword = `sample-${i}`;
        const started = Date.now();
        await api.call('PUT', `/entity/${slug}/metadata`, { keywords: [keyword] });
        const remote = remoteIds[i % latencyTypes.length]!;
        await waitFor(() => udata.getDataset(remote)?.tags.includes(keyword), { timeoutMs: 30_000, intervalMs: 5, what: `change ${i} on the remote` });
        latencies.push(Date.now() - started);
        await sleep(150);
      }
      figures.change_to_remote_p50 = { value: percentile(latencies, 50), unit: 'ms' };
      figures.change_to_remote_p99 = { value: percentile(latencies, 99), unit: 'ms' };
      figures.change_to_remote_max = { value: Math.max(...latencies), unit: 'ms' };
      if (process.env.BENCH_PUBLISH_VERBOSE) notes.push(`latencies (ms, in order): ${latencies.join(' ')}`);

      // 2. Bulk: first publication of `bulk` types, then all changed at once, under the remote's rate limit.
      udata.limitRate(remoteLimit);
      const bulkTypes = Array.from({ length: bulk }, (_, i) => `bulk-${String(i).padStart(4, '0')}`);
      await pool(bulkTypes, 16, (slug) => api.call('POST', `/entity/${slug}`, { name: `Bulk ${slug}`, description: 'Bulk probe', tags: ['bench'] }));
      const total = latencyTypes.length + bulk;
      let bulkStarted = Date.now();
      udata.clearRequests();
      udata.throttled = 0;
      await pool(bulkTypes, 16, (slug) => api.call('PUT', `/entity/${slug}/publication/datagouv`, {}));
      await waitFor(async () => (await publishedCount()) === total, { timeoutMs: 600_000, intervalMs: 200, what: 'first publication of the bulk types' });
      figures.first_publication_1000_seconds = { value: round((Date.now() - bulkStarted) / 1000), unit: 's' };
      figures.first_publication_requests = { value: udata.requests.length, unit: 'requests' };
      figures.first_publication_throttled = { value: udata.throttled, unit: '429s' };

      udata.clearRequests();
      udata.throttled = 0;
      bulkStarted = Date.now();
      await pool(bulkTypes, 16, (slug) => api.call('PUT', `/entity/${slug}/metadata`, { keywords: ['changed-at-once'], frequency: 'weekly' }));
      figures.bulk_changes_submitted_seconds = { value: round((Date.now() - bulkStarted) / 1000), unit: 's' };
      const changed = () => [...udata.datasets.values()].filter((dataset) => dataset.tags.includes('changed-at-once')).length;
      await waitFor(async () => changed() === bulk && (await publishedCount()) === total, {
        timeoutMs: 600_000,
        intervalMs: 200,
        what: 'every bulk change on the remote',
      });
      const seconds = (Date.now() - bulkStarted) / 1000;
      figures.change_1000_all_pushed_seconds = { value: round(seconds), unit: 's' };
      figures.change_1000_requests = { value: udata.requests.length, unit: 'requests' };
      figures.change_1000_throttled = { value: udata.throttled, unit: '429s' };
      figures.change_1000_remote_peak_rps = { value: peakPerSecond(udata), unit: 'req/s' };
      notes.push(`remote limit ${remoteLimit} req/s (429 beyond), publisher paced at ${pace} req/s per catalog, ${samples} latency samples`);

      return {
        name: this.name,
        figures,
        targets: [
          target(figures, 'change_to_remote_p50', '<', 1500),
          target(figures, 'change_to_remote_p99', '<', 3000),
          target(figures, 'change_1000_all_pushed_seconds', '<', 60),
        ],
        notes,
      };
    } finally {
      await db.end().catch(() => undefined);
      await Promise.all(services.map((service) => service.stop()));
      await udata.stop();
    }
  },
};

/** The fake udata, counting the requests it refused with 429. */
class CountingUdata extends FakeUdata {
  throttled = 0;

  protected override faultResponse(status: number, headers: Record<string, string> = {}): FakeResponse {
    if (status === 429) this.throttled += 1;
    return super.faultResponse(status, headers);
  }
}

/** Most requests the remote received within any one second. */
function peakPerSecond(udata: FakeUdata): number {
  const times = udata.requests.map((request) => request.at).sort((a, b) => a - b);
  let peak = 0;
  for (let start = 0, end = 0; end < times.length; end += 1) {
    while (times[end] - times[start] >= 1000) start += 1;
    peak = Math.max(peak, end - start + 1);
  }
  return peak;
}

class Api {
  constructor(private readonly base: string) {}

  async call(method: string, path: string, body?: unknown): Promise<void> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  }
}

async function pool<T>(items: T[], size: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
