/**
 * Machine-readable description of the events (and RPC bodies) for external
 * subscribers: one JSON Schema per payload type of `events.ts`, the envelope
 * every payload travels in, and a typed example per subject.
 *
 * Dialect: JSON Schema draft-07 (what Ajv validates by default and what an
 * AsyncAPI Schema Object extends). Schemas are plain `as const` objects so that
 * `event-schemas.spec.ts` can check, at compile time, that each one describes
 * exactly its TypeScript interface. Payload schemas do not forbid additional
 * properties: subscribers must ignore properties they do not know.
 *
 * `docs/asyncapi.yaml` is generated from this file: `npm run asyncapi`.
 */
import { DomainEvent, EventPayloads, EventSubject, EventSubjects } from './events';
import { RpcContracts, RpcSubject } from './rpc';

export const JSON_SCHEMA_DIALECT = 'http://json-schema.org/draft-07/schema#';

export type JsonSchemaType = 'string' | 'number' | 'integer' | 'boolean' | 'null' | 'array' | 'object';

/** The draft-07 keywords these schemas use (typos in a schema fail to compile). */
export interface JsonSchema {
  readonly $schema?: string;
  readonly $id?: string;
  readonly $ref?: string;
  readonly title?: string;
  readonly description?: string;
  readonly type?: JsonSchemaType | readonly JsonSchemaType[];
  readonly enum?: readonly (string | number | boolean | null)[];
  readonly const?: string | number | boolean | null;
  readonly format?: string;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly properties?: { readonly [name: string]: JsonSchema };
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly uniqueItems?: boolean;
  readonly oneOf?: readonly JsonSchema[];
  readonly anyOf?: readonly JsonSchema[];
  readonly allOf?: readonly JsonSchema[];
  readonly default?: unknown;
  readonly examples?: readonly unknown[];
}

// ---------------------------------------------------------------------------
// Payloads (one schema per payload type of events.ts; `title` = the type name)
// ---------------------------------------------------------------------------

const changedProperties = {
  type: 'array',
  items: { type: 'string' },
  description: 'Top-level properties of the resource that changed (updates only).',
} as const satisfies JsonSchema;

const entityTypeId = { type: 'string', description: 'Entity type id (its slug, e.g. `bike-station`).' } as const satisfies JsonSchema;
const connectorId = { type: 'string', description: 'Connector id, unique within its entity type.' } as const satisfies JsonSchema;
const contributionId = { type: 'string', description: 'Contribution id of the connector (what its records are filed under).' } as const satisfies JsonSchema;
const isLive = {
  type: 'boolean',
  description: 'Whether the connector is live (its records visible to consumers) rather than staging.',
} as const satisfies JsonSchema;
const policyId = { type: 'string', description: 'Policy id (its slug).' } as const satisfies JsonSchema;
const userId = { type: 'integer', description: 'User id.' } as const satisfies JsonSchema;
const remoteCatalogId = { type: 'string', description: 'Remote catalog id.' } as const satisfies JsonSchema;
const harvestSourceId = { type: 'string', description: 'Harvest source id.' } as const satisfies JsonSchema;
const runId = { type: 'string', description: 'Harvest run id.' } as const satisfies JsonSchema;

export const EntityTypeChangedSchema = {
  title: 'EntityTypeChanged',
  description: 'An entity type, identified by its slug.',
  type: 'object',
  required: ['entityTypeId'],
  properties: { entityTypeId, changed: changedProperties },
} as const satisfies JsonSchema;

export const ConnectorChangedSchema = {
  title: 'ConnectorChanged',
  description: 'A data connector of an entity type.',
  type: 'object',
  required: ['entityTypeId', 'connectorId', 'contributionId', 'isLive'],
  properties: { entityTypeId, connectorId, contributionId, isLive, changed: changedProperties },
} as const satisfies JsonSchema;

export const PolicyChangedSchema = {
  title: 'PolicyChanged',
  description: 'An access policy.',
  type: 'object',
  required: ['policyId'],
  properties: { policyId, changed: changedProperties },
} as const satisfies JsonSchema;

export const UserChangedSchema = {
  title: 'UserChanged',
  description: 'A user.',
  type: 'object',
  required: ['userId'],
  properties: { userId, changed: changedProperties },
} as const satisfies JsonSchema;

export const AccessChangedSchema = {
  title: 'AccessChanged',
  description: "A user's access (consumer key) to a policy.",
  type: 'object',
  required: ['userId', 'policyId'],
  properties: { userId, policyId },
} as const satisfies JsonSchema;

export const KeysRevokedSchema = {
  title: 'KeysRevoked',
  description: 'Key ids (never tokens) that stop working at once on every service.',
  type: 'object',
  required: ['keyIds', 'reason'],
  properties: {
    keyIds: { type: 'array', items: { type: 'string' }, description: 'Ids of the revoked keys.' },
    reason: {
      type: 'string',
      enum: [
        'reissued',
        'access-deleted',
        'user-deleted',
        'coordinator-demoted',
        'connector-deleted',
        'connector-token-rotated',
        'policy-deleted',
        'entity-type-deleted',
      ],
      description: 'The change that revoked the keys.',
    },
  },
} as const satisfies JsonSchema;

export const RecordsChangedSchema = {
  title: 'RecordsChanged',
  description: 'One event per committed batch of records, not one per record.',
  type: 'object',
  required: ['entityTypeId', 'connectorId', 'contributionId', 'isLive', 'sessionId', 'records'],
  properties: {
    entityTypeId,
    connectorId,
    contributionId,
    isLive,
    sessionId: {
      type: ['string', 'null'],
      description: 'Contribution session the batch was written in; null when written outside a session.',
    },
    records: {
      type: 'array',
      description: 'The records of the batch.',
      items: {
        type: 'object',
        required: ['publicId', 'vendorId'],
        properties: {
          publicId: { type: 'string', description: 'Public id of the record (what consumers see).' },
          vendorId: { type: 'string', description: "The connector's own id for the record." },
        },
      },
    },
  },
} as const satisfies JsonSchema;

export const SessionChangedSchema = {
  title: 'SessionChanged',
  description: "A connector's contribution session.",
  type: 'object',
  required: ['entityTypeId', 'connectorId', 'contributionId', 'sessionId', 'mode'],
  properties: {
    entityTypeId,
    connectorId,
    contributionId,
    sessionId: { type: 'string', description: 'Session id.' },
    mode: { type: 'string', enum: ['stream', 'accrue', 'replace'], description: 'Session mode.' },
    operations: { type: 'integer', description: 'Commits only: how many operations were applied.' },
  },
} as const satisfies JsonSchema;

export const RemoteCatalogChangedSchema = {
  title: 'RemoteCatalogChanged',
  description: 'A remote catalog (CKAN portal, udata instance, DCAT feed...).',
  type: 'object',
  required: ['remoteCatalogId', 'type'],
  properties: {
    remoteCatalogId,
    type: { type: 'string', description: 'Catalog kind, e.g. `ckan`, `udata`, `dcat`.' },
  },
} as const satisfies JsonSchema;

export const HarvestSourceChangedSchema = {
  title: 'HarvestSourceChanged',
  description: 'A harvest source (what to pull from a remote catalog, and when).',
  type: 'object',
  required: ['harvestSourceId', 'remoteCatalogId'],
  properties: { harvestSourceId, remoteCatalogId, changed: changedProperties },
} as const satisfies JsonSchema;

export const HarvestRunRequestedSchema = {
  title: 'HarvestRunRequested',
  description: 'A harvest run was asked for (on demand, outside the schedule).',
  type: 'object',
  required: ['harvestSourceId', 'runId', 'dryRun'],
  properties: {
    harvestSourceId,
    runId,
    dryRun: { type: 'boolean', description: 'Report what would change without writing anything.' },
  },
} as const satisfies JsonSchema;

export const HarvestRunChangedSchema = {
  title: 'HarvestRunChanged',
  description: 'Progress of a harvest run.',
  type: 'object',
  required: ['harvestSourceId', 'runId', 'status'],
  properties: {
    harvestSourceId,
    runId,
    status: { type: 'string', enum: ['running', 'done', 'done-with-errors', 'failed'], description: 'Run status.' },
    counts: {
      type: 'object',
      additionalProperties: { type: 'integer' },
      description: 'Items per outcome, e.g. `added`, `updated`, `unchanged`, `deleted`, `skipped`, `failed`.',
    },
    error: { type: 'string', description: 'Why the run failed.' },
  },
} as const satisfies JsonSchema;

export const PublicationChangedSchema = {
  title: 'PublicationChanged',
  description: 'The publication of an entity type to a remote catalog.',
  type: 'object',
  required: ['entityTypeId', 'remoteCatalogId'],
  properties: {
    entityTypeId,
    remoteCatalogId,
    status: { type: 'string', enum: ['waiting', 'running', 'done', 'error'], description: 'Publication status.' },
    remoteId: {
      type: ['string', 'null'],
      description: 'Id of the dataset in the remote catalog; null when it has none (yet, or any more).',
    },
    error: { type: 'string', description: 'Last error, kept until the next successful push.' },
  },
} as const satisfies JsonSchema;

const payloadSchemas = {
  'entity-type.created': EntityTypeChangedSchema,
  'entity-type.updated': EntityTypeChangedSchema,
  'entity-type.deleted': EntityTypeChangedSchema,
  'connector.created': ConnectorChangedSchema,
  'connector.updated': ConnectorChangedSchema,
  'connector.deleted': ConnectorChangedSchema,
  'connector.promoted': ConnectorChangedSchema,
  'connector.demoted': ConnectorChangedSchema,
  'connector.token-rotated': ConnectorChangedSchema,
  'policy.created': PolicyChangedSchema,
  'policy.updated': PolicyChangedSchema,
  'policy.deleted': PolicyChangedSchema,
  'user.created': UserChangedSchema,
  'user.updated': UserChangedSchema,
  'user.deleted': UserChangedSchema,
  'user.promoted': UserChangedSchema,
  'user.demoted': UserChangedSchema,
  'access.created': AccessChangedSchema,
  'access.reissued': AccessChangedSchema,
  'access.deleted': AccessChangedSchema,
  'keys.revoked': KeysRevokedSchema,
  'record.upserted': RecordsChangedSchema,
  'record.deleted': RecordsChangedSchema,
  'session.opened': SessionChangedSchema,
  'session.committed': SessionChangedSchema,
  'session.rolled-back': SessionChangedSchema,
  'remote-catalog.created': RemoteCatalogChangedSchema,
  'remote-catalog.updated': RemoteCatalogChangedSchema,
  'remote-catalog.deleted': RemoteCatalogChangedSchema,
  'harvest-source.created': HarvestSourceChangedSchema,
  'harvest-source.updated': HarvestSourceChangedSchema,
  'harvest-source.deleted': HarvestSourceChangedSchema,
  'harvest.run.requested': HarvestRunRequestedSchema,
  'harvest.run.started': HarvestRunChangedSchema,
  'harvest.run.completed': HarvestRunChangedSchema,
  'harvest.run.failed': HarvestRunChangedSchema,
  'publication.updated': PublicationChangedSchema,
  'publication.queued': PublicationChangedSchema,
  'publication.succeeded': PublicationChangedSchema,
  'publication.failed': PublicationChangedSchema,
  'publication.deleted': PublicationChangedSchema,
  'publication.push-requested': PublicationChangedSchema,
} as const;

/** The literal types of the payload schemas, subject by subject (for compile-time checks). */
export type EventPayloadSchemas = typeof payloadSchemas;

/** The payload schema of every subject; a subject without one fails to compile. */
export const EVENT_PAYLOAD_SCHEMAS: Record<EventSubject, JsonSchema> = payloadSchemas;

// ---------------------------------------------------------------------------
// Envelope
// ---------------------------------------------------------------------------

/** `DomainEvent`: what travels on the bus, whatever the subject. */
export const DomainEventSchema = {
  title: 'DomainEvent',
  description: 'The JSON envelope around every payload; the message body on `<namespace>.events.v1.<subject>`.',
  type: 'object',
  required: ['id', 'subject', 'occurredAt', 'source', 'payload'],
  properties: {
    id: {
      type: 'string',
      description:
        'Event id, unique per deployment: the outbox row id (a decimal number today; treat it as an opaque string). ' +
        'Also the JetStream message id (header `Nats-Msg-Id`). De-duplicate on it.',
    },
    subject: {
      type: 'string',
      enum: Object.values(EventSubjects),
      description: 'Logical subject (the wire subject without `<namespace>.events.v1.`).',
    },
    occurredAt: {
      type: 'string',
      format: 'date-time',
      description: 'ISO-8601 time of the transaction that produced the event.',
    },
    source: { type: 'string', description: 'Service that wrote the event, e.g. `coordinator`.' },
    payload: { type: 'object', description: "The subject's payload (see its schema)." },
  },
} as const satisfies JsonSchema;

/** The envelope of one subject: `subject` fixed, `payload` that subject's schema (or the given one, e.g. a `$ref`). */
export function eventEnvelopeSchema(subject: EventSubject, payload: JsonSchema = EVENT_PAYLOAD_SCHEMAS[subject]): JsonSchema {
  return {
    ...DomainEventSchema,
    title: `DomainEvent<${subject}>`,
    properties: {
      ...DomainEventSchema.properties,
      subject: { type: 'string', const: subject, description: DomainEventSchema.properties.subject.description },
      payload,
    },
  };
}

// ---------------------------------------------------------------------------
// One-line summaries and typed examples (both shown in docs/asyncapi.yaml)
// ---------------------------------------------------------------------------

export const EVENT_SUMMARIES: Record<EventSubject, string> = {
  'entity-type.created': 'An entity type was created.',
  'entity-type.updated': 'An entity type was updated; `changed` lists the properties that changed.',
  'entity-type.deleted': 'An entity type was deleted.',
  'connector.created': 'A data connector was created (staging).',
  'connector.updated': 'A data connector was updated; `changed` lists the properties that changed.',
  'connector.deleted': 'A data connector was deleted.',
  'connector.promoted': 'A connector was promoted to live: its records are now visible to consumers.',
  'connector.demoted': 'A connector was demoted to staging: its records are no longer visible to consumers.',
  'connector.token-rotated': "A connector's contribution token was replaced; the old one no longer works.",
  'policy.created': 'An access policy was created.',
  'policy.updated': 'An access policy was updated; `changed` lists the properties that changed.',
  'policy.deleted': 'An access policy was deleted.',
  'user.created': 'A user was created.',
  'user.updated': 'A user was updated; `changed` lists the properties that changed.',
  'user.deleted': 'A user was deleted.',
  'user.promoted': 'A user was made coordinator.',
  'user.demoted': 'A user is no longer coordinator.',
  'access.created': 'A user was given access (a consumer key) to a policy.',
  'access.reissued': "A user's consumer key for a policy was reissued; the previous key no longer works.",
  'access.deleted': "A user's access to a policy was removed.",
  'keys.revoked': 'Keys were revoked and must be refused from now on, on every service.',
  'record.upserted': 'A batch of records was inserted or updated.',
  'record.deleted': 'A batch of records was deleted.',
  'session.opened': 'A connector opened a contribution session.',
  'session.committed': 'A contribution session was committed; `operations` says how many operations were applied.',
  'session.rolled-back': 'A contribution session was rolled back; none of its operations were applied.',
  'remote-catalog.created': 'A remote catalog was registered.',
  'remote-catalog.updated': 'A remote catalog was updated.',
  'remote-catalog.deleted': 'A remote catalog was deleted.',
  'harvest-source.created': 'A harvest source was created.',
  'harvest-source.updated': 'A harvest source was updated; `changed` lists the properties that changed.',
  'harvest-source.deleted': 'A harvest source was deleted.',
  'harvest.run.requested': 'A harvest run was requested outside the schedule.',
  'harvest.run.started': 'A harvest run started.',
  'harvest.run.completed': 'A harvest run finished; `counts` holds the report.',
  'harvest.run.failed': 'A harvest run failed; `error` says why.',
  'publication.updated': 'The publication settings of an entity type to a remote catalog changed.',
  'publication.queued': 'A push of an entity type to a remote catalog was queued.',
  'publication.succeeded': 'An entity type was pushed to a remote catalog; `remoteId` is the remote dataset.',
  'publication.failed': 'A push to a remote catalog failed; `error` says why.',
  'publication.deleted': 'An entity type is no longer published to a remote catalog.',
  'publication.push-requested': 'A push of an entity type to a remote catalog was requested.',
};

const connector = {
  entityTypeId: 'bike-station',
  connectorId: 'velib',
  contributionId: '5b1c9e3a-2f44-4c1e-9d0b-8a7e6f5d4c3b',
} as const;
const session = { ...connector, sessionId: '0f6e2d1c-7b8a-4e59-a3c2-1d0e9f8b7a65' } as const;
const publication = { entityTypeId: 'bike-station', remoteCatalogId: 'data-gouv-fr' } as const;
const harvestRun = { harvestSourceId: 'paris-open-data', runId: '9c8b7a69-5d4e-4f3a-b2c1-0e1f2a3b4c5d' } as const;

/** One payload per subject, type-checked against `EventPayloads`. */
export const EVENT_PAYLOAD_EXAMPLES: { [S in EventSubject]: EventPayloads[S] } = {
  'entity-type.created': { entityTypeId: 'bike-station' },
  'entity-type.updated': { entityTypeId: 'bike-station', changed: ['description', 'schema'] },
  'entity-type.deleted': { entityTypeId: 'bike-station' },
  'connector.created': { ...connector, isLive: false },
  'connector.updated': { ...connector, isLive: false, changed: ['description'] },
  'connector.deleted': { ...connector, isLive: true },
  'connector.promoted': { ...connector, isLive: true },
  'connector.demoted': { ...connector, isLive: false },
  'connector.token-rotated': { ...connector, isLive: true },
  'policy.created': { policyId: 'public-transport' },
  'policy.updated': { policyId: 'public-transport', changed: ['policy'] },
  'policy.deleted': { policyId: 'public-transport' },
  'user.created': { userId: 42 },
  'user.updated': { userId: 42, changed: ['name'] },
  'user.deleted': { userId: 42 },
  'user.promoted': { userId: 42 },
  'user.demoted': { userId: 42 },
  'access.created': { userId: 42, policyId: 'public-transport' },
  'access.reissued': { userId: 42, policyId: 'public-transport' },
  'access.deleted': { userId: 42, policyId: 'public-transport' },
  'keys.revoked': { keyIds: ['7d3f0a9e-1b2c-4d5e-8f90-a1b2c3d4e5f6'], reason: 'reissued' },
  'record.upserted': {
    ...connector,
    isLive: true,
    sessionId: session.sessionId,
    records: [
      { publicId: '9f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6', vendorId: 'station-0001' },
      { publicId: '0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d', vendorId: 'station-0002' },
    ],
  },
  'record.deleted': {
    ...connector,
    isLive: true,
    sessionId: null,
    records: [{ publicId: '9f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6', vendorId: 'station-0001' }],
  },
  'session.opened': { ...session, mode: 'accrue' },
  'session.committed': { ...session, mode: 'accrue', operations: 120 },
  'session.rolled-back': { ...session, mode: 'replace' },
  'remote-catalog.created': { remoteCatalogId: 'data-gouv-fr', type: 'udata' },
  'remote-catalog.updated': { remoteCatalogId: 'data-gouv-fr', type: 'udata' },
  'remote-catalog.deleted': { remoteCatalogId: 'data-gouv-fr', type: 'udata' },
  'harvest-source.created': { harvestSourceId: 'paris-open-data', remoteCatalogId: 'paris-ckan' },
  'harvest-source.updated': { harvestSourceId: 'paris-open-data', remoteCatalogId: 'paris-ckan', changed: ['schedule'] },
  'harvest-source.deleted': { harvestSourceId: 'paris-open-data', remoteCatalogId: 'paris-ckan' },
  'harvest.run.requested': { ...harvestRun, dryRun: false },
  'harvest.run.started': { ...harvestRun, status: 'running' },
  'harvest.run.completed': {
    ...harvestRun,
    status: 'done-with-errors',
    counts: { added: 12, updated: 3, unchanged: 140, deleted: 1, skipped: 2, failed: 1 },
  },
  'harvest.run.failed': { ...harvestRun, status: 'failed', error: 'remote catalog answered 503 Service Unavailable' },
  'publication.updated': { ...publication },
  'publication.queued': { ...publication, status: 'waiting' },
  'publication.succeeded': { ...publication, status: 'done', remoteId: '64f0c2a1b3e4d5f6a7b8c9d0' },
  'publication.failed': { ...publication, status: 'error', remoteId: null, error: 'udata answered 401: invalid API key' },
  'publication.deleted': { ...publication, remoteId: null },
  'publication.push-requested': { ...publication },
};

const EXAMPLE_SOURCES: Record<string, string> = {
  record: 'contributor-ingest',
  session: 'contributor-ingest',
  harvest: 'harvester',
  publication: 'catalog-publisher',
};

/** A whole event per subject around `EVENT_PAYLOAD_EXAMPLES`. */
export function exampleEvent<S extends EventSubject>(subject: S, id = '1024'): DomainEvent<S> {
  return {
    id,
    subject,
    occurredAt: '2025-06-02T09:30:00.000Z',
    source: EXAMPLE_SOURCES[subject.split('.')[0]] ?? 'coordinator',
    payload: EVENT_PAYLOAD_EXAMPLES[subject],
  };
}

// ---------------------------------------------------------------------------
// RPC (request/reply on `<namespace>.rpc.v1.<subject>`)
// ---------------------------------------------------------------------------

export interface RpcSchemaPair {
  readonly request: JsonSchema;
  readonly response: JsonSchema;
}

export const PingRequestSchema = {
  title: 'PingRequest',
  type: 'object',
  required: ['from'],
  properties: { from: { type: 'string', description: 'Who is asking (for logs).' } },
} as const satisfies JsonSchema;

export const PingResponseSchema = {
  title: 'PingResponse',
  type: 'object',
  required: ['service', 'instance'],
  properties: {
    service: { type: 'string', description: 'Name of the service that answered.' },
    instance: { type: 'string', description: 'Id of the replica that answered.' },
  },
} as const satisfies JsonSchema;

const contributionIdSchema = { type: 'string', pattern: '^[a-z0-9]{40}$', description: 'The connector\'s contribution id.' } as const;
const sessionIdSchema = { type: 'string', format: 'uuid', description: 'Id returned by ingest.session.open.' } as const;

export const ContributedRecordSchema = {
  title: 'ContributedRecord',
  type: 'object',
  required: ['id', 'name', 'entity'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 256, description: 'Vendor id: the connector\'s own key.' },
    name: { type: 'string', minLength: 1, maxLength: 256 },
    entity: { type: 'object', description: 'Checked against the entity type\'s JSON Schema.' },
    instance: { type: 'object' },
  },
} as const satisfies JsonSchema;

export const IngestOpenSessionRequestSchema = {
  title: 'IngestOpenSessionRequest',
  type: 'object',
  required: ['contributionId', 'mode'],
  properties: { contributionId: contributionIdSchema, mode: { type: 'string', enum: ['stream', 'accrue', 'replace'] } },
} as const satisfies JsonSchema;

export const IngestOpenSessionResponseSchema = {
  title: 'IngestOpenSessionResponse',
  type: 'object',
  required: ['sessionId'],
  properties: { sessionId: sessionIdSchema },
} as const satisfies JsonSchema;

const idsWantedSchema = { type: 'boolean', description: 'Answer the public ids of the batch (default false).' } as const;

export const IngestWriteRequestSchema = {
  title: 'IngestWriteRequest',
  oneOf: [
    {
      type: 'object',
      required: ['contributionId', 'sessionId', 'action', 'records'],
      properties: {
        contributionId: contributionIdSchema,
        sessionId: sessionIdSchema,
        action: { type: 'string', const: 'upsert' },
        records: { type: 'array', maxItems: 1000, items: ContributedRecordSchema },
        ids: idsWantedSchema,
      },
    },
    {
      type: 'object',
      required: ['contributionId', 'sessionId', 'action', 'records'],
      properties: {
        contributionId: contributionIdSchema,
        sessionId: sessionIdSchema,
        action: { type: 'string', const: 'delete' },
        records: { type: 'array', maxItems: 1000, items: { type: 'string' } },
        ids: idsWantedSchema,
      },
    },
  ],
} as const satisfies JsonSchema;

export const IngestWriteResponseSchema = {
  title: 'IngestWriteResponse',
  type: 'object',
  required: ['changed'],
  properties: {
    ids: { type: 'object', additionalProperties: { type: 'string' }, description: 'Vendor id → public id (when asked).' },
    changed: { type: 'integer', minimum: 0, description: 'Records actually written (unchanged ones are skipped).' },
  },
} as const satisfies JsonSchema;

export const IngestCloseSessionRequestSchema = {
  title: 'IngestCloseSessionRequest',
  type: 'object',
  required: ['contributionId', 'sessionId', 'commit'],
  properties: { contributionId: contributionIdSchema, sessionId: sessionIdSchema, commit: { type: 'boolean' } },
} as const satisfies JsonSchema;

export const IngestCloseSessionResponseSchema = {
  title: 'IngestCloseSessionResponse',
  type: 'object',
  required: ['applied'],
  properties: { applied: { type: 'integer', minimum: 0, description: 'Operations applied by the commit.' } },
} as const satisfies JsonSchema;

const harvestSourceSlug = { type: 'string', minLength: 1, description: 'Harvest source id (its slug).' } as const;
const harvestEntityTypeId = { type: 'string', minLength: 1, description: 'Entity type id (its slug).' } as const;

export const HarvestProvisionRequestSchema = {
  title: 'HarvestProvisionRequest',
  type: 'object',
  required: ['harvestSourceId', 'resourceKey', 'name', 'description', 'keywords', 'datasetMetadata'],
  properties: {
    harvestSourceId: harvestSourceSlug,
    resourceKey: { type: 'string', minLength: 1, description: 'Identity of the remote resource within the source.' },
    name: { type: 'string', description: 'Title of the remote resource (cut to the entity type name length).' },
    description: { type: 'string', description: 'Description of the remote dataset.' },
    keywords: { type: 'array', items: { type: 'string' }, description: 'Keywords of the remote dataset.' },
    schema: { type: 'object', description: 'JSON Schema inferred from the data; absent keeps the current one.' },
    datasetMetadata: { type: 'object', description: 'Normalized metadata of the remote dataset and resource.' },
  },
} as const satisfies JsonSchema;

export const HarvestProvisionResponseSchema = {
  title: 'HarvestProvisionResponse',
  type: 'object',
  required: ['entityTypeId', 'connectorId', 'contributionId', 'created'],
  properties: {
    entityTypeId: harvestEntityTypeId,
    connectorId: { type: 'string', description: 'Connector id, owned by the harvest source.' },
    contributionId: contributionIdSchema,
    created: { type: 'boolean', description: 'Whether the entity type was created by this call.' },
  },
} as const satisfies JsonSchema;

export const HarvestRetireRequestSchema = {
  title: 'HarvestRetireRequest',
  type: 'object',
  required: ['harvestSourceId', 'entityTypeId'],
  properties: { harvestSourceId: harvestSourceSlug, entityTypeId: harvestEntityTypeId },
} as const satisfies JsonSchema;

export const HarvestRetireResponseSchema = {
  title: 'HarvestRetireResponse',
  type: 'object',
  required: ['deleted'],
  properties: { deleted: { type: 'boolean', description: 'False when the entity type was already gone.' } },
} as const satisfies JsonSchema;

const rpcSchemas = {
  'platform.ping': { request: PingRequestSchema, response: PingResponseSchema },
  'ingest.session.open': { request: IngestOpenSessionRequestSchema, response: IngestOpenSessionResponseSchema },
  'ingest.session.write': { request: IngestWriteRequestSchema, response: IngestWriteResponseSchema },
  'ingest.session.close': { request: IngestCloseSessionRequestSchema, response: IngestCloseSessionResponseSchema },
  'coordinator.harvest.provision': { request: HarvestProvisionRequestSchema, response: HarvestProvisionResponseSchema },
  'coordinator.harvest.retire': { request: HarvestRetireRequestSchema, response: HarvestRetireResponseSchema },
} as const;

export type RpcSchemas = typeof rpcSchemas;

/** Request and response body schema of every RPC subject; a subject without them fails to compile. */
export const RPC_SCHEMAS: Record<RpcSubject, RpcSchemaPair> = rpcSchemas;

export const RPC_SUMMARIES: Record<RpcSubject, string> = {
  'platform.ping': 'Any service answers with its name and instance id (used by health tooling).',
  'ingest.session.open': 'contributor-ingest opens a session on a connector (a new one rolls back the previous).',
  'ingest.session.write': 'contributor-ingest upserts or deletes a batch of records in an open session.',
  'ingest.session.close': 'contributor-ingest commits (true) or discards (false) the session.',
  'coordinator.harvest.provision':
    'coordinator creates or updates the entity type and connector a data-mode harvest source writes a remote resource under.',
  'coordinator.harvest.retire': 'coordinator deletes an entity type a harvest source created, with its connector and records.',
};

export const RPC_EXAMPLES: { [S in RpcSubject]: RpcContracts[S] } = {
  'platform.ping': { request: { from: 'health-check' }, response: { service: 'coordinator', instance: 'coordinator-7d9f-1' } },
  'ingest.session.open': {
    request: { contributionId: '9afcf3235500836c6fcd9e82110dbc05ffbb734b', mode: 'replace' },
    response: { sessionId: '4527eff4-63cf-4b7f-a4f8-9f0c3d3b1e2a' },
  },
  'ingest.session.write': {
    request: {
      contributionId: '9afcf3235500836c6fcd9e82110dbc05ffbb734b',
      sessionId: '4527eff4-63cf-4b7f-a4f8-9f0c3d3b1e2a',
      action: 'upsert',
      records: [{ id: 'GB', name: 'United Kingdom', entity: { capital: 'London' } }],
      ids: true,
    },
    response: { ids: { GB: '917d0311c687e5ffb28c91a9ea57cd3a306890d0' }, changed: 1 },
  },
  'ingest.session.close': {
    request: { contributionId: '9afcf3235500836c6fcd9e82110dbc05ffbb734b', sessionId: '4527eff4-63cf-4b7f-a4f8-9f0c3d3b1e2a', commit: true },
    response: { applied: 1 },
  },
  'coordinator.harvest.provision': {
    request: {
      harvestSourceId: 'paris-open-data',
      resourceKey: 'velib-stations#b1e0b666-b7f4-44c1-9b16-56c78e86b66a',
      name: 'Vélib stations (CSV)',
      description: 'Real-time availability of Vélib stations',
      keywords: ['mobility', 'bike'],
      schema: { type: 'object', properties: { capacity: { type: ['integer', 'null'] } } },
      datasetMetadata: { license: { id: 'ODbL-1.0' }, landing_page: 'https://opendata.paris.fr/explore/dataset/velib' },
    },
    response: {
      entityTypeId: 'paris-open-data-3f9a0c1d2e',
      connectorId: 'paris-open-data',
      contributionId: '9afcf3235500836c6fcd9e82110dbc05ffbb734b',
      created: true,
    },
  },
  'coordinator.harvest.retire': {
    request: { harvestSourceId: 'paris-open-data', entityTypeId: 'paris-open-data-3f9a0c1d2e' },
    response: { deleted: true },
  },
};

/**
 * Body of an error reply, as `RpcServer` encodes it on the wire (header
 * `Odb-Rpc-Status: error`): the fields are at the top level.
 */
export const RpcErrorSchema = {
  title: 'RpcError',
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'integer', description: 'HTTP-like status: 404 unknown, 500 handler failure, ...' },
    message: { type: 'string', description: 'What went wrong.' },
    details: { description: 'Handler-specific details, when there are any.' },
  },
} as const satisfies JsonSchema;
