import { createHash } from 'crypto';
import { IncomingMessage, Server, ServerResponse, createServer } from 'http';
import { AddressInfo } from 'net';
import { Pool } from 'pg';
import { ApiClient, ApiResponse, InProcessService, TestEnvironment, startInProcess, waitFor } from '@odb/testing';
import { startContributorIngest, startCoordinator } from '../../coordinator/test/coordinator.support';
import { ConsumerQueryConfig } from '../src/config';
import { consumerQueryService } from '../src/service';

/**
 * What the consumer-query tests share: a coordinator (enforced auth, the
 * bootstrap token) and contributor-ingest (local mode) to create types,
 * connectors, policies and records through their real APIs, and one or more
 * consumer-query instances, all on one TestEnvironment.
 */
export interface ConsumerPlatform {
  env: TestEnvironment;
  /** Coordinator API with the bootstrap coordinator token. */
  admin: ApiClient;
  /** The bootstrap coordinator token (a key of another role, for the consumer API). */
  coordinatorToken: string;
  /** Contributor API (local mode: no token). */
  contributor: ApiClient;
  consumer: InProcessService<ConsumerQueryConfig>;
  /** Consumer API without headers. */
  api: ApiClient;
  db: Pool;
  /** Another consumer-query instance on the same database, NATS namespace and Redis prefix. */
  startReplica(extra?: Record<string, string>): Promise<InProcessService<ConsumerQueryConfig>>;
  close(): Promise<void>;
}

export async function startConsumerPlatform(
  env: TestEnvironment,
  options: { consumer?: Record<string, string> } = {},
): Promise<ConsumerPlatform> {
  const coordinator = await startCoordinator(env);
  const ingest = await startContributorIngest(env, { AUTH_MODE: 'local' });
  // 4xx answers are logged as warnings; the tests make many on purpose.
  const consumerEnv = env.serviceEnv({ AUTH_MODE: 'local', LOG_LEVEL: process.env.ODB_TEST_LOG_LEVEL ?? 'error', ...options.consumer });
  const consumer = await startInProcess(consumerQueryService, consumerEnv);
  const replicas: Array<InProcessService<ConsumerQueryConfig>> = [];
  const db = new Pool({ connectionString: env.databaseUrl, max: 3 });
  return {
    env,
    admin: coordinator.api,
    coordinatorToken: coordinator.token,
    contributor: ingest.api,
    consumer,
    api: new ApiClient(consumer.api),
    db,
    startReplica: async (extra = {}) => {
      const replica = await startInProcess(consumerQueryService, { ...consumerEnv, ...extra });
      replicas.push(replica);
      return replica;
    },
    close: async () => {
      for (const service of [...replicas, consumer, ingest.service, coordinator.service]) await service.close().catch(() => undefined);
      await db.end();
    },
  };
}

export async function expectStatus(response: Promise<ApiResponse> | ApiResponse, status: number, what: string): Promise<ApiResponse> {
  const answer = await response;
  if (answer.status !== status) throw new Error(`${what}: expected ${status}, got ${answer.status} ${answer.text.slice(0, 500)}`);
  return answer;
}

export async function createType(admin: ApiClient, slug: string, body: Record<string, unknown> = {}): Promise<void> {
  await expectStatus(
    admin.post(`/entity/${slug}`, { name: slug, description: `The ${slug} type`, schema: {}, timeseries: {}, ...body }),
    201,
    `creating entity type ${slug}`,
  );
}

export interface Connector {
  type: string;
  slug: string;
  /** The contribution id. */
  id: string;
}

export async function createConnector(
  admin: ApiClient,
  type: string,
  slug: string,
  options: { webhook?: string | null; live?: boolean } = {},
): Promise<Connector> {
  const { body } = await expectStatus(
    admin.post(`/entity/${type}/connector/${slug}`, { name: slug, description: `Connector ${slug}`, webhook: options.webhook ?? null, cache: 0 }),
    201,
    `creating connector ${type}/${slug}`,
  );
  if (options.live ?? true) await expectStatus(admin.post(`/entity/${type}/connector/${slug}/live`), 204, `promoting ${slug}`);
  return { type, slug, id: body.id };
}

export interface PolicyBody {
  segment?: Record<string, unknown>;
  masks?: string[];
  legal?: Array<{ type: string; text: string; link: string }>;
  rate?: number;
  quota?: { max_number: number; interval_type: 'day' | 'month' };
  enabled?: boolean;
}

export async function createPolicy(admin: ApiClient, slug: string, body: PolicyBody = {}): Promise<void> {
  await expectStatus(
    admin.post(`/policy/${slug}`, {
      name: slug,
      description: `Policy ${slug}`,
      policy: {
        access_control: { enabled: body.enabled ?? true, quota: body.quota ?? { max_number: 0, interval_type: 'day' }, rate: body.rate ?? 0 },
        data_segment: { segment_query: body.segment ?? {}, field_masks: body.masks ?? [] },
        legal_context: body.legal ?? [],
      },
    }),
    201,
    `creating policy ${slug}`,
  );
}

/** Writes records through a stream session of the Contributor API (at most 250 per call, as BitBroker allows). */
export async function upsert(contributor: ApiClient, connector: Connector, records: object[]): Promise<Record<string, string>> {
  const { body: sid } = await expectStatus(contributor.get(`/connector/${connector.id}/session/open/stream`), 200, 'opening a session');
  const ids: Record<string, string> = {};
  for (let i = 0; i < records.length; i += 250) {
    const { body } = await expectStatus(
      contributor.post(`/connector/${connector.id}/session/${sid}/upsert`, records.slice(i, i + 250)),
      200,
      'upserting records',
    );
    Object.assign(ids, body);
  }
  await expectStatus(contributor.get(`/connector/${connector.id}/session/${sid}/close/true`), 200, 'closing a session');
  return ids;
}

/** Deletes records by vendor id through a stream session. */
export async function remove(contributor: ApiClient, connector: Connector, vendorIds: string[]): Promise<void> {
  const { body: sid } = await expectStatus(contributor.get(`/connector/${connector.id}/session/open/stream`), 200, 'opening a session');
  for (let i = 0; i < vendorIds.length; i += 250) {
    await expectStatus(contributor.post(`/connector/${connector.id}/session/${sid}/delete`, vendorIds.slice(i, i + 250)), 200, 'deleting records');
  }
  await expectStatus(contributor.get(`/connector/${connector.id}/session/${sid}/close/true`), 200, 'closing a session');
}

/** BitBroker's public record id: sha1("<contribution id>:<vendor id>"). */
export function publicId(contributionId: string, vendorId: string): string {
  return createHash('sha1').update(`${contributionId}:${vendorId}`).digest('hex');
}

/** A consumer in local mode: the policy named by `x-bbk-audience`. */
export function consumerAs(api: ApiClient, policy: string, headers: Record<string, string> = {}): ApiClient {
  return api.withHeaders({ 'x-bbk-audience': policy, ...headers });
}

export function q(query: unknown): string {
  return `/catalog?q=${encodeURIComponent(JSON.stringify(query))}`;
}

/** The `name: reason` lines of a 400 answer. */
export function errorLines(response: ApiResponse): string[] {
  const message = (response.body as { error?: { message?: unknown } })?.error?.message;
  return Array.isArray(message) ? message.map((error: { name: string; reason: string }) => `${error.name}: ${error.reason}`) : [];
}

/** Every record id visible to a consumer through a list, page by page. */
export async function listAll(consumer: ApiClient, type: string): Promise<string[]> {
  const ids: string[] = [];
  for (let offset = 0; ; offset += 250) {
    const { status, body } = await consumer.get(`/entity/${type}?limit=250&offset=${offset}`);
    if (status !== 200) throw new Error(`listing ${type}: ${status}`);
    ids.push(...body.map((item: { id: string }) => item.id));
    if (body.length < 250) return ids;
  }
}

/** Waits until the type's expression indexes exist and are valid (they are built in the background). */
export async function typeIndexes(db: Pool, typeSlug: string): Promise<Array<{ name: string; definition: string }>> {
  const { rows } = await db.query(
    `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = 'record'::regclass AND i.indisvalid AND starts_with(c.relname, 'record_et_' || (SELECT id FROM entity_type WHERE slug = $1) || '_')
      ORDER BY c.relname`,
    [typeSlug],
  );
  return rows;
}

export async function waitForTypeIndexes(db: Pool, typeSlug: string, count: number): Promise<Array<{ name: string; definition: string }>> {
  return waitFor(
    async () => {
      const indexes = await typeIndexes(db, typeSlug);
      return indexes.length === count ? indexes : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200, what: `${count} indexes for ${typeSlug}` },
  );
}

export interface RecordedCall {
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
}

/** A connector webhook: answers with `handler`, records every call. */
export class FakeWebhook {
  readonly calls: RecordedCall[] = [];
  handler: (call: RecordedCall, response: ServerResponse) => void = (_, response) => json(response, 404, {});
  private constructor(private readonly server: Server) {}

  static async start(): Promise<FakeWebhook> {
    let webhook: FakeWebhook | undefined;
    const server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const call = { path: url.pathname, query: url.searchParams, headers: request.headers };
      webhook!.calls.push(call);
      webhook!.handler(call, response);
    });
    webhook = new FakeWebhook(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return webhook;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

export function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF) into rows of fields. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += char;
  }
  if (field !== '' || row.length > 0) throw new Error('CSV does not end with CRLF');
  return rows;
}
