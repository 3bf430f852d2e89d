/**
 * Every domain event the platform publishes, with its payload type.
 *
 * Subjects are logical names; on the wire they are namespaced and versioned as
 * `<namespace>.events.v1.<subject>` (see `wireSubject`). Payloads carry ids and
 * what changed, never whole documents: a subscriber that needs more reads it
 * through the owning service's API.
 */

export const EVENTS_VERSION = 'v1';

export const EventSubjects = {
  EntityTypeCreated: 'entity-type.created',
  EntityTypeUpdated: 'entity-type.updated',
  EntityTypeDeleted: 'entity-type.deleted',

  ConnectorCreated: 'connector.created',
  ConnectorUpdated: 'connector.updated',
  ConnectorDeleted: 'connector.deleted',
  ConnectorPromoted: 'connector.promoted',
  ConnectorDemoted: 'connector.demoted',
  ConnectorTokenRotated: 'connector.token-rotated',

  PolicyCreated: 'policy.created',
  PolicyUpdated: 'policy.updated',
  PolicyDeleted: 'policy.deleted',

  UserCreated: 'user.created',
  UserUpdated: 'user.updated',
  UserDeleted: 'user.deleted',
  UserPromoted: 'user.promoted',
  UserDemoted: 'user.demoted',

  AccessCreated: 'access.created',
  AccessReissued: 'access.reissued',
  AccessDeleted: 'access.deleted',

  KeysRevoked: 'keys.revoked',

  RecordUpserted: 'record.upserted',
  RecordDeleted: 'record.deleted',

  SessionOpened: 'session.opened',
  SessionCommitted: 'session.committed',
  SessionRolledBack: 'session.rolled-back',

  RemoteCatalogCreated: 'remote-catalog.created',
  RemoteCatalogUpdated: 'remote-catalog.updated',
  RemoteCatalogDeleted: 'remote-catalog.deleted',

  HarvestSourceCreated: 'harvest-source.created',
  HarvestSourceUpdated: 'harvest-source.updated',
  HarvestSourceDeleted: 'harvest-source.deleted',
  HarvestRunRequested: 'harvest.run.requested',
  HarvestRunStarted: 'harvest.run.started',
  HarvestRunCompleted: 'harvest.run.completed',
  HarvestRunFailed: 'harvest.run.failed',

  PublicationUpdated: 'publication.updated',
  PublicationQueued: 'publication.queued',
  PublicationSucceeded: 'publication.succeeded',
  PublicationFailed: 'publication.failed',
  PublicationDeleted: 'publication.deleted',
  PublicationPushRequested: 'publication.push-requested',
} as const;

export type EventSubject = (typeof EventSubjects)[keyof typeof EventSubjects];

/** An entity type, identified by its slug. */
export interface EntityTypeChanged {
  entityTypeId: string;
  /** Top-level properties that changed (updates only). */
  changed?: string[];
}

export interface ConnectorChanged {
  entityTypeId: string;
  connectorId: string;
  contributionId: string;
  isLive: boolean;
  changed?: string[];
}

export interface PolicyChanged {
  policyId: string;
  changed?: string[];
}

export interface UserChanged {
  userId: number;
  changed?: string[];
}

export interface AccessChanged {
  userId: number;
  policyId: string;
}

export type KeyRole = 'coordinator' | 'contributor' | 'consumer';

/** Key ids (never tokens) that stop working at once on every service. */
export interface KeysRevoked {
  keyIds: string[];
  reason:
    | 'reissued'
    | 'access-deleted'
    | 'user-deleted'
    | 'coordinator-demoted'
    | 'connector-deleted'
    | 'connector-token-rotated'
    | 'policy-deleted'
    | 'entity-type-deleted';
}

/** One event per committed batch, not per record: the write path stays cheap. */
export interface RecordsChanged {
  entityTypeId: string;
  connectorId: string;
  contributionId: string;
  isLive: boolean;
  sessionId: string | null;
  records: Array<{ publicId: string; vendorId: string }>;
}

export type SessionMode = 'stream' | 'accrue' | 'replace';

export interface SessionChanged {
  entityTypeId: string;
  connectorId: string;
  contributionId: string;
  sessionId: string;
  mode: SessionMode;
  /** Commits only: how many operations were applied. */
  operations?: number;
}

export interface RemoteCatalogChanged {
  remoteCatalogId: string;
  type: string;
}

export interface HarvestSourceChanged {
  harvestSourceId: string;
  remoteCatalogId: string;
  changed?: string[];
}

export interface HarvestRunRequested {
  harvestSourceId: string;
  runId: string;
  dryRun: boolean;
}

export interface HarvestRunChanged {
  harvestSourceId: string;
  runId: string;
  status: 'running' | 'done' | 'done-with-errors' | 'failed';
  counts?: Record<string, number>;
  error?: string;
}

export interface PublicationChanged {
  entityTypeId: string;
  remoteCatalogId: string;
  status?: 'waiting' | 'running' | 'done' | 'error';
  remoteId?: string | null;
  error?: string;
}

export interface EventPayloads {
  'entity-type.created': EntityTypeChanged;
  'entity-type.updated': EntityTypeChanged;
  'entity-type.deleted': EntityTypeChanged;
  'connector.created': ConnectorChanged;
  'connector.updated': ConnectorChanged;
  'connector.deleted': ConnectorChanged;
  'connector.promoted': ConnectorChanged;
  'connector.demoted': ConnectorChanged;
  'connector.token-rotated': ConnectorChanged;
  'policy.created': PolicyChanged;
  'policy.updated': PolicyChanged;
  'policy.deleted': PolicyChanged;
  'user.created': UserChanged;
  'user.updated': UserChanged;
  'user.deleted': UserChanged;
  'user.promoted': UserChanged;
  'user.demoted': UserChanged;
  'access.created': AccessChanged;
  'access.reissued': AccessChanged;
  'access.deleted': AccessChanged;
  'keys.revoked': KeysRevoked;
  'record.upserted': RecordsChanged;
  'record.deleted': RecordsChanged;
  'session.opened': SessionChanged;
  'session.committed': SessionChanged;
  'session.rolled-back': SessionChanged;
  'remote-catalog.created': RemoteCatalogChanged;
  'remote-catalog.updated': RemoteCatalogChanged;
  'remote-catalog.deleted': RemoteCatalogChanged;
  'harvest-source.created': HarvestSourceChanged;
  'harvest-source.updated': HarvestSourceChanged;
  'harvest-source.deleted': HarvestSourceChanged;
  'harvest.run.requested': HarvestRunRequested;
  'harvest.run.started': HarvestRunChanged;
  'harvest.run.completed': HarvestRunChanged;
  'harvest.run.failed': HarvestRunChanged;
  'publication.updated': PublicationChanged;
  'publication.queued': PublicationChanged;
  'publication.succeeded': PublicationChanged;
  'publication.failed': PublicationChanged;
  'publication.deleted': PublicationChanged;
  'publication.push-requested': PublicationChanged;
}

/** What travels on the bus: the envelope around every payload. */
export interface DomainEvent<S extends EventSubject = EventSubject> {
  /** The outbox row id; also the JetStream message id, so re-publishing is de-duplicated. */
  id: string;
  subject: S;
  /** ISO-8601 time of the transaction that produced the event. */
  occurredAt: string;
  /** Service that wrote the event. */
  source: string;
  payload: EventPayloads[S];
}

/** `odb` + `record.upserted` → `odb.events.v1.record.upserted`. */
export function wireSubject(namespace: string, subject: EventSubject | '>'): string {
  return `${namespace}.events.${EVENTS_VERSION}.${subject}`;
}

/** Subject a message lands on after its consumer gave up on it. */
export function deadLetterSubject(namespace: string, consumer: string): string {
  return `${namespace}.dlq.${consumer}`;
}

export function isEventSubject(value: string): value is EventSubject {
  return (Object.values(EventSubjects) as string[]).includes(value);
}
