import { randomBytes } from 'crypto';
import { mkdtempSync, readFileSync } from 'fs';
import { Server, createServer } from 'http';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { Readable } from 'stream';
import { Client } from 'pg';
import { ApiClient, FakeCkan, RunningService, waitFor } from '@odb/testing';
import { Benchmark, backendCpu, backendCpuSince, cpuSeconds, pidListeningOn, target, watchRss } from './harness';

const DATASETS = 10_000;
const ROWS = Number(process.env.BENCH_HARVEST_ROWS ?? 1_000_000);

/**
 * Harvesting, with coordinator, contributor-ingest and harvester as real
 * processes: a metadata harvest of a fake CKAN with 10,000 datasets (50 ms
 * per request), its re-run with nothing changed (time and records written),
 * and a data harvest of a 1,000,000-row CSV (~100 MB) served locally
 * (rows/s, harvester RSS). BENCH_HARVEST_ROWS changes the CSV's size (a
 * shorter run to compare two builds; the target is for a million rows).
 */
export const harvestBenchmark: Benchmark = {
  name: 'harvest',
  description: `metadata harvest of ${DATASETS} CKAN datasets (50 ms latency), its unchanged re-run, and a ${ROWS}-row CSV in data mode`,
  async run(context) {
    const ckan = await new FakeCkan().start();
    ckan.generate(DATASETS, { organizations: ['town'], tags: ['bench'] });
    const csv = await startCsvServer(ROWS);
    const hosts = `${ckan.host},${csv.host}`;
    const secrets = { APP_SECRET: randomBytes(24).toString('hex'), SECRETS_KEY: randomBytes(32).toString('base64'), REMOTE_ALLOWED_HOSTS: hosts };
    const tokenFile = join(mkdtempSync(join(tmpdir(), 'odb-bench-')), 'token');
    const services: RunningService[] = [];
    const db = new Client({ connectionString: context.databaseUrl });
    await db.connect();
    try {
      services.push(await context.startService('coordinator', context.serviceEnv({ ...secrets, BOOTSTRAP_TOKEN_FILE: tokenFile })));
      services.push(await context.startService('contributor-ingest', context.serviceEnv(secrets)));
      const harvester = await context.startService('harvester', context.serviceEnv(secrets), { waitFor: 'ready' });
      services.push(harvester);
      const api = new ApiClient(`${services[0].url}/v1`, { 'x-bbk-auth-token': readFileSync(tokenFile, 'utf8').trim() });
      await must(api.post('/remote-catalog/bench-ckan', { type: 'ckan', url: ckan.url, name: 'Bench CKAN' }), 201);
      await must(api.post('/entity/datasets', { name: 'Datasets', description: 'Harvested datasets' }), 201);
      await must(api.post('/harvest/bench-meta', { name: 'Bench metadata', catalog: 'bench-ckan', mode: 'metadata', entity_type: 'datasets' }), 201);

      ckan.setLatency(50);
      const first = await timedRun(api, 'bench-meta');
      const [{ now: beforeSecond }] = (await db.query(`SELECT now()::text AS now`)).rows;
      const second = await timedRun(api, 'bench-meta');
      const [{ written }] = (await db.query(`SELECT count(*)::int AS written FROM record WHERE updated_at > $1::timestamptz OR created_at > $1::timestamptz`, [beforeSecond])).rows;
      ckan.setLatency(0);

      ckan.addDataset({ id: 'big-csv', title: 'One million rows', resources: [{ id: 'rows', name: 'Rows', url: `${csv.url}/rows.csv`, format: 'CSV' }] });
      await must(
        api.post('/harvest/bench-data', { name: 'Bench data', catalog: 'bench-ckan', mode: 'data', row_key: 'id', filters: { query: 'million' } }),
        201,
      );
      const rss = watchRss(harvester.process.pid!, 200);
      const natsPid = pidListeningOn(Number(new URL(context.natsUrl).port) || 4222);
      const processes: Record<string, number> = { harvester: harvester.process.pid!, ingest: services[1].process.pid! };
      if (natsPid) processes['NATS server'] = natsPid;
      const cpuBefore = { processes: Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, cpuSeconds(pid)])), bench: process.cpuUsage(), postgres: await backendCpu(db) };
      const data = await timedRun(api, 'bench-data', 600_000);
      rss.stop();
      const benchCpu = process.cpuUsage(cpuBefore.bench);
      const cpu = [
        ...Object.entries(processes).map(([name, pid]) => `${name} ${(cpuSeconds(pid) - cpuBefore.processes[name]).toFixed(1)} s`),
        `PostgreSQL backends of this database ${(await backendCpuSince(db, cpuBefore.postgres)).toFixed(1)} s`,
        `CSV server (this process) ${((benchCpu.user + benchCpu.system) / 1e6).toFixed(1)} s`,
      ];
      const [{ rows }] = (await db.query(`SELECT count(*)::int AS rows FROM record r JOIN connector c ON c.id = r.connector_id WHERE c.slug = 'bench-data'`)).rows;

      const figures = {
        metadata_first_run: { value: round(first.seconds), unit: 's' },
        metadata_first_added: { value: first.run.counts.added, unit: 'datasets' },
        metadata_rerun: { value: round(second.seconds), unit: 's' },
        metadata_rerun_unchanged: { value: second.run.counts.unchanged, unit: 'datasets' },
        metadata_rerun_record_writes: { value: written, unit: 'records' },
        data_rows: { value: rows, unit: 'rows' },
        data_seconds: { value: round(data.seconds), unit: 's' },
        data_rows_per_second: { value: Math.round(rows / data.seconds), unit: 'rows/s' },
        harvester_peak_rss: { value: Math.round(rss.peak()), unit: 'MB' },
      };
      return {
        name: this.name,
        figures,
        targets: [
          target(figures, 'metadata_first_run', '<', 60),
          target(figures, 'metadata_rerun', '<', 20),
          target(figures, 'metadata_rerun_record_writes', '<=', 0),
          target(figures, 'data_rows_per_second', '>=', 20_000),
          target(figures, 'harvester_peak_rss', '<', 300),
        ],
        notes: [
          `metadata run status ${first.run.status}/${second.run.status}, data run status ${data.run.status}; CSV ${Math.round(csv.bytes() / 1e6)} MB`,
          `CPU during the data harvest (${round(data.seconds)} s): ${cpu.join(', ')}`,
        ],
      };
    } finally {
      await db.end();
      for (const service of services.reverse()) await service.stop();
      await csv.stop();
      await ckan.stop();
    }
  },
};

async function must(response: Promise<{ status: number; text: string }>, status: number): Promise<void> {
  const answer = await response;
  if (answer.status !== status) throw new Error(`expected ${status}, got ${answer.status}: ${answer.text}`);
}

async function timedRun(api: ApiClient, source: string, timeoutMs = 300_000) {
  const started = Date.now();
  const { body } = await api.post(`/harvest/${source}/run`);
  const run = await waitFor(
    async () => {
      const { body: current } = await api.get(`/harvest/${source}/run/${body.id}`);
      return current.status !== 'queued' && current.status !== 'running' ? current : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `run of ${source}` },
  );
  if (run.status !== 'done') throw new Error(`run of ${source} ended ${run.status}: ${run.error ?? JSON.stringify(run.items?.slice(0, 3))}`);
  return { run, seconds: (Date.now() - started) / 1000 };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** A CSV of `rows` rows (~100 bytes each) generated as it is sent, so the bench process does not hold it. */
async function startCsvServer(rows: number) {
  let sent = 0;
  const server: Server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/csv' });
    let i = 0;
    const body = new Readable({
      read() {
        if (i === 0) this.push('id,name,category,value,latitude,longitude,active,updated\n');
        const lines: string[] = [];
        for (let end = Math.min(rows, i + 2000); i < end; i += 1) {
          lines.push(
            `r${i},Station number ${i},${['north', 'south', 'east', 'west'][i % 4]},${(i * 7) % 1000},${(48 + (i % 1000) / 1000).toFixed(6)},${(2 + (i % 997) / 997).toFixed(6)},${i % 3 === 0},2024-0${1 + (i % 9)}-1${i % 10}T10:00:00Z`,
          );
        }
        const chunk = lines.length ? `${lines.join('\n')}\n` : '';
        sent += chunk.length;
        this.push(chunk || null);
        if (i >= rows && chunk) this.push(null);
      },
    });
    body.pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    url: `http://${host}`,
    bytes: () => sent,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}


