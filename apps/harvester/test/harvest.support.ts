import { Client } from 'pg';
import { ApiClient, InProcessService, TestEnvironment, startInProcess, waitFor } from '@odb/testing';
import { startContributorIngest, startCoordinator } from '../../coordinator/test/coordinator.support';
import { HarvesterConfig } from '../src/config';
import { harvesterService } from '../src/service';

export interface HarvestPlatform {
  env: TestEnvironment;
  coordinator: Awaited<ReturnType<typeof startCoordinator>>;
  ingest: Awaited<ReturnType<typeof startContributorIngest>>;
  harvesters: Array<InProcessService<HarvesterConfig>>;
  api: ApiClient;
  close(): Promise<void>;
}

/** Coordinator, contributor-ingest and harvester(s) in this process, on one test environment; `hosts` are the fakes to allow. */
export async function startHarvestPlatform(hosts: string[], options: { harvesters?: number; env?: Record<string, string> } = {}): Promise<HarvestPlatform> {
  const env = await TestEnvironment.create();
  const allowed = { REMOTE_ALLOWED_HOSTS: hosts.join(','), ...options.env };
  const coordinator = await startCoordinator(env, allowed);
  const ingest = await startContributorIngest(env);
  const harvesters: Array<InProcessService<HarvesterConfig>> = [];
  for (let i = 0; i < (options.harvesters ?? 1); i += 1) {
    harvesters.push(await startHarvester(env, allowed));
  }
  return {
    env,
    coordinator,
    ingest,
    harvesters,
    api: coordinator.api,
    close: async () => {
      for (const harvester of harvesters) await harvester.close();
      await ingest.service.close();
      await coordinator.service.close();
      await env.dispose();
    },
  };
}

export function startHarvester(env: TestEnvironment, extra: Record<string, string> = {}) {
  return startInProcess(harvesterService, env.serviceEnv({ HARVEST_HEARTBEAT_MS: '500', HARVEST_BUSY_RETRY_MS: '300', ...extra }));
}

export async function sql<T = any>(env: TestEnvironment, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: env.databaseUrl });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

export async function addCatalog(api: ApiClient, slug: string, body: Record<string, unknown>): Promise<void> {
  const { status, text } = await api.post(`/remote-catalog/${slug}`, { name: slug, ...body });
  if (status !== 201) throw new Error(`remote catalog ${slug}: ${status} ${text}`);
}

export async function addSource(api: ApiClient, slug: string, body: Record<string, unknown>): Promise<void> {
  const { status, text } = await api.post(`/harvest/${slug}`, { name: slug, ...body });
  if (status !== 201) throw new Error(`harvest source ${slug}: ${status} ${text}`);
}

/** Requests a run (or a preview) and waits until it has finished; returns the run report. */
export async function runHarvest(api: ApiClient, slug: string, options: { preview?: boolean; timeoutMs?: number } = {}) {
  const requested = await api.post(`/harvest/${slug}/${options.preview ? 'preview' : 'run'}`);
  if (requested.status !== 202) throw new Error(`run of ${slug}: ${requested.status} ${requested.text}`);
  return waitForRun(api, slug, requested.body.id, options.timeoutMs);
}

export async function waitForRun(api: ApiClient, slug: string, runId: string, timeoutMs = 30_000) {
  return waitFor(
    async () => {
      const { body } = await api.get(`/harvest/${slug}/run/${runId}`);
      return body.status !== 'queued' && body.status !== 'running' ? body : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `run ${runId} of ${slug} to finish` },
  );
}

/** Records of a connector (vendor id → entity), straight from the catalog table. */
export async function records(env: TestEnvironment, entityType: string, connector: string): Promise<Map<string, any>> {
  const rows = await sql<{ vendor_id: string; document: any; updated_at: Date }>(
    env,
    `SELECT r.vendor_id, r.document, r.updated_at FROM record r JOIN connector c ON c.id = r.connector_id JOIN entity_type t ON t.id = r.entity_type_id
      WHERE t.slug = $1 AND c.slug = $2 ORDER BY r.id`,
    [entityType, connector],
  );
  return new Map(rows.map((row) => [row.vendor_id, { ...row.document, updated_at: row.updated_at }]));
}

/** Outbox rows written since `sinceId` with this subject (events of the transaction that wrote them). */
export async function recordEventsSince(env: TestEnvironment, since: Date): Promise<number> {
  const [{ count }] = await sql(env, `SELECT count(*)::int AS count FROM record WHERE updated_at > $1 OR created_at > $1`, [since]);
  return count;
}
