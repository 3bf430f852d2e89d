/**
 * Request/reply subjects between services (core NATS with queue groups).
 * On the wire: `<namespace>.rpc.v1.<subject>`.
 */
export const RpcSubjects = {
  /** Any service: answers with its name and instance id (used by health tooling). */
  Ping: 'platform.ping',
  /** contributor-ingest: the Contributor API's session operations, for the harvester's own connectors. */
  IngestOpenSession: 'ingest.session.open',
  IngestWrite: 'ingest.session.write',
  IngestCloseSession: 'ingest.session.close',
  /** coordinator: the entity type and connector a data-mode harvest source writes one remote resource under (created or updated). */
  HarvestProvision: 'coordinator.harvest.provision',
  /** coordinator: deletes an entity type a harvest source created (its remote resource is gone), with its connector and records. */
  HarvestRetire: 'coordinator.harvest.retire',
} as const;

export type SessionModeName = 'stream' | 'accrue' | 'replace';

/** A record as connectors send it: the vendor id, a name, the entity (checked against the type's schema). */
export interface ContributedRecord {
  id: string;
  name: string;
  entity: Record<string, unknown>;
  instance?: Record<string, unknown>;
}

/** Largest batch over NATS (the Contributor API's HTTP limit is 250). */
export const MAX_RPC_BATCH = 1000;

export type RpcSubject = (typeof RpcSubjects)[keyof typeof RpcSubjects];

export interface RpcContracts {
  'platform.ping': { request: { from: string }; response: { service: string; instance: string } };
  'ingest.session.open': {
    request: { contributionId: string; mode: SessionModeName };
    response: { sessionId: string };
  };
  'ingest.session.write': {
    /** `ids: true` asks for the public ids (they follow from the contribution id; writers of big batches rarely need them). */
    request:
      | { contributionId: string; sessionId: string; action: 'upsert'; records: ContributedRecord[]; ids?: boolean }
      | { contributionId: string; sessionId: string; action: 'delete'; records: string[]; ids?: boolean };
    /** `ids` (when asked): vendor id → public id, for every record of the batch; `changed` counts the records actually written. */
    response: { ids?: Record<string, string>; changed: number };
  };
  'ingest.session.close': {
    request: { contributionId: string; sessionId: string; commit: boolean };
    response: { applied: number };
  };
  'coordinator.harvest.provision': {
    request: {
      harvestSourceId: string;
      /** Stable identity of the remote resource within the source (dataset remote id + distribution remote id). */
      resourceKey: string;
      name: string;
      description: string;
      keywords: string[];
      /** JSON Schema inferred from the data; absent keeps the current one (metadata-only refresh). */
      schema?: Record<string, unknown>;
      /** Normalized metadata of the remote dataset and resource. */
      datasetMetadata: Record<string, unknown>;
    };
    response: { entityTypeId: string; connectorId: string; contributionId: string; created: boolean };
  };
  'coordinator.harvest.retire': {
    request: { harvestSourceId: string; entityTypeId: string };
    response: { deleted: boolean };
  };
}

/** Body of a failed reply (sent with header `Odb-Rpc-Status: error`). */
export interface RpcErrorReply {
  code: number;
  message: string;
  details?: unknown;
}

export function rpcWireSubject(namespace: string, subject: string): string {
  return `${namespace}.rpc.v1.${subject}`;
}
