import { createHash } from 'crypto';
import { JetStreamManager, NatsConnection, connect } from 'nats';
import { Pool } from 'pg';
import { DomainEvent, EventSubject, RecordsChanged } from '@odb/contracts';
import { EventTopology, json } from '@odb/messaging';
import { ApiClient, InProcessService, TestEnvironment, startInProcess, waitFor } from '@odb/testing';
import { startCoordinator } from '../../coordinator/test/coordinator.support';
import { ContributorIngestConfig } from '../src/config';
import { contributorIngestService } from '../src/service';

/**
 * What the contributor-ingest tests share: a coordinator (to create entity
 * types and connectors through its real API), the ingest service, SQL access
 * to the test file's database and a tap on the JetStream event stream.
 */
export interface IngestPlatform {
  env: TestEnvironment;
  coordinator: Awaited<ReturnType<typeof startCoordinator>>;
  /** Coordinator API with the bootstrap coordinator token. */
  admin: ApiClient;
  ingest: InProcessService<ContributorIngestConfig>;
  /** Contributor API, no token (local mode) unless `withHeaders` adds one. */
  api: ApiClient;
  db: Pool;
  close(): Promise<void>;
}

export async function startIngestPlatform(
  env: TestEnvironment,
  options: { ingest?: Record<string, string>; coordinator?: Record<string, string> } = {},
): Promise<IngestPlatform> {
  const coordinator = await startCoordinator(env, options.coordinator);
  const ingest = await startInProcess(contributorIngestService, env.serviceEnv({ AUTH_MODE: 'local', ...options.ingest }));
  const db = new Pool({ connectionString: env.databaseUrl, max: 3 });
  // The database is dropped WITH (FORCE) at the end: a connection killed then is no test failure.
  db.on('error', () => undefined);
  return {
    env,
    coordinator,
    admin: coordinator.api,
    ingest,
    api: new ApiClient(ingest.api),
    db,
    close: async () => {
      await ingest.close();
      await coordinator.service.close();
      await db.end();
    },
  };
}

/** An entity type whose `entity` must have an integer population >= 0, with a timeseries (so connectors need a webhook). */
export const countryType = {
  name: 'Countries',
  description: 'All the countries in the world',
  schema: {
    type: 'object',
    properties: {
      capital: { type: 'string' },
      population: { type: 'integer', minimum: 0 },
      value: { type: 'number', minimum: 0 },
    },
    required: ['capital'],
  },
  timeseries: { population: { period: 'P1Y', value: 'people', unit: 'x1000' } },
};

export const siteType = { name: 'Heritage sites', description: 'World heritage sites' };

export async function createEntityType(admin: ApiClient, slug: string, body: object): Promise<void> {
  const { status, text } = await admin.post(`/entity/${slug}`, body);
  if (status !== 201) throw new Error(`creating entity type ${slug}: ${status} ${text}`);
}

export interface CreatedConnector {
  entity: string;
  slug: string;
  /** The contribution id. */
  id: string;
  token: string;
}

export async function createConnector(admin: ApiClient, entity: string, slug: string): Promise<CreatedConnector> {
  const { status, body, text } = await admin.post(`/entity/${entity}/connector/${slug}`, {
    name: slug,
    description: `Connector ${slug}`,
    webhook: 'http://webhook.example.org',
    cache: 0,
  });
  if (status !== 201) throw new Error(`creating connector ${entity}/${slug}: ${status} ${text}`);
  return { entity, slug, id: body.id, token: body.token };
}

export async function inSession(admin: ApiClient, connector: CreatedConnector): Promise<boolean> {
  const { body } = await admin.get(`/entity/${connector.entity}/connector/${connector.slug}`);
  return body.in_session;
}

export function publicId(contributionId: string, vendorId: string): string {
  return createHash('sha1').update(`${contributionId}:${vendorId}`).digest('hex');
}

/** A record as connectors send it. */
export function country(id: string, population = 1000, extra: Record<string, unknown> = {}) {
  return { id, name: `Country ${id}`, entity: { capital: `Capital of ${id}`, population }, ...extra };
}

export interface StoredRecord {
  vendorId: string;
  publicId: string;
  name: string;
  connectorId: number;
  entityTypeId: number;
  document: any;
  updatedAt: Date;
}

/** A connector's records in insertion order (BitBroker's stable order), straight from the `record` table. */
export async function storedRecords(db: Pool, contributionId: string): Promise<StoredRecord[]> {
  const { rows } = await db.query(
    `SELECT r.vendor_id AS "vendorId", r.public_id AS "publicId", r.name, r.connector_id AS "connectorId",
            r.entity_type_id AS "entityTypeId", r.document, r.updated_at AS "updatedAt"
       FROM record r JOIN connector c ON c.id = r.connector_id
      WHERE c.contribution_id = $1 ORDER BY r.id`,
    [contributionId],
  );
  return rows;
}

export async function vendorIds(db: Pool, contributionId: string): Promise<string[]> {
  return (await storedRecords(db, contributionId)).map((record) => record.vendorId);
}

export async function connectorRow(db: Pool, contributionId: string): Promise<{ id: number; entityTypeId: number }> {
  const { rows } = await db.query(`SELECT id, entity_type_id AS "entityTypeId" FROM connector WHERE contribution_id = $1`, [contributionId]);
  return rows[0];
}

export async function bufferedOperations(db: Pool, sessionId?: string): Promise<number> {
  const { rows } = sessionId
    ? await db.query(`SELECT count(*)::int AS n FROM session_operation WHERE session_id = $1`, [sessionId])
    : await db.query(`SELECT count(*)::int AS n FROM session_operation`);
  return rows[0].n;
}

/** Everything a rejected request must leave untouched: records (content included), buffered operations and events. */
export async function writeSnapshot(db: Pool) {
  const [records, operations, outbox] = await Promise.all([
    db.query(
      `SELECT count(*)::int AS count,
              md5(coalesce(string_agg(public_id || document::text || updated_at::text, ',' ORDER BY id), '')) AS digest
         FROM record`,
    ),
    db.query(`SELECT count(*)::int AS count, coalesce(max(seq), 0)::text AS "lastSeq" FROM session_operation`),
    // The sequence moves even for rows the relay has already published and deleted.
    db.query(`SELECT last_value::text AS "lastId", is_called AS "called" FROM outbox_event_id_seq`),
  ]);
  return { records: records.rows[0], operations: operations.rows[0], outbox: outbox.rows[0] };
}

/** Outbox rows written so far (published or not): the outbox id sequence. */
export async function outboxHighWater(db: Pool): Promise<number> {
  const { rows } = await db.query(`SELECT CASE WHEN is_called THEN last_value ELSE 0 END::int AS n FROM outbox_event_id_seq`);
  return rows[0].n;
}

/**
 * Reads every event of this test file's stream from the start (an ordered
 * JetStream consumer on `<namespace>.events.v1.>`), as subscribers see them.
 */
export class EventTap {
  readonly events: DomainEvent[] = [];
  private done?: Promise<void>;
  private stopped = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
  ) {}

  static async start(env: TestEnvironment): Promise<EventTap> {
    const nc = await connect({ servers: env.natsUrl });
    const topology = new EventTopology(env.namespace);
    const js = nc.jetstream();
    // The service creates the stream when it boots.
    const jsm = await nc.jetstreamManager();
    await waitFor(() => jsm.streams.info(topology.eventStream).then(() => true), { what: 'event stream' });
    const tap = new EventTap(nc, jsm, topology.eventStream);
    const consumer = await js.consumers.get(topology.eventStream, { filterSubjects: `${env.namespace}.events.v1.>` });
    const messages = await consumer.consume();
    tap.done = (async () => {
      for await (const message of messages) {
        tap.events.push(json.decode(message.data) as DomainEvent);
        if (tap.stopped) break;
      }
    })();
    tap.stop = async () => {
      tap.stopped = true;
      await messages.close();
      await tap.done;
      await nc.close();
    };
    return tap;
  }

  stop: () => Promise<void> = async () => undefined;

  of<S extends EventSubject>(subject: S, filter: (event: DomainEvent<S>) => boolean = () => true): Array<DomainEvent<S>> {
    return this.events.filter((event): event is DomainEvent<S> => event.subject === subject && filter(event as DomainEvent<S>));
  }

  /** Events of a connector (by contribution id) since `after` (an outbox id). */
  forConnector(contributionId: string, after = 0): DomainEvent[] {
    return this.events.filter(
      (event) => Number(event.id) > after && (event.payload as { contributionId?: string }).contributionId === contributionId,
    );
  }

  /**
   * Waits until every committed event has come through: the outbox is empty
   * (all relayed) and this tap has read every message of the stream. (Not
   * "an event with the outbox sequence's last value": a rolled-back
   * transaction uses up ids too.)
   */
  async caughtUp(db: Pool, timeoutMs = 15_000): Promise<void> {
    await waitFor(async () => (await db.query(`SELECT count(*)::int AS n FROM outbox_event`)).rows[0].n === 0, {
      timeoutMs,
      what: 'the outbox to be relayed',
    });
    await waitFor(async () => this.events.length >= (await this.jsm.streams.info(this.stream)).state.messages, {
      timeoutMs,
      what: 'every message of the event stream',
    });
  }
}

/** The `{publicId, vendorId}` entries of record events. */
export function recordsOf(events: DomainEvent[]): RecordsChanged['records'] {
  return events.flatMap((event) => (event.payload as RecordsChanged).records ?? []);
}

/**
 * Replays a connector's record events in outbox order: the public ids a
 * subscriber following only the events believes exist. Must equal the table.
 */
export function replayRecordEvents(events: DomainEvent[]): Set<string> {
  const present = new Set<string>();
  for (const event of [...events].sort((a, b) => Number(a.id) - Number(b.id))) {
    if (event.subject === 'record.upserted') for (const record of (event.payload as RecordsChanged).records) present.add(record.publicId);
    if (event.subject === 'record.deleted') for (const record of (event.payload as RecordsChanged).records) present.delete(record.publicId);
  }
  return present;
}
