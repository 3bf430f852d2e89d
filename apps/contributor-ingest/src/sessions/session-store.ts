import { randomUUID } from 'crypto';
import { DataSource, EntityManager } from 'typeorm';
import { EventSubjects, SessionMode } from '@odb/contracts';
import { EventOutbox } from '@odb/messaging';

/** The connector a contribution addresses, with what the write path needs of its entity type. */
export interface ContributionTarget {
  connectorId: number;
  connectorSlug: string;
  contributionId: string;
  isLive: boolean;
  sessionId: string | null;
  sessionMode: SessionMode | null;
  entityTypeId: number;
  entitySlug: string;
  entityVersion: number;
  schema: Record<string, unknown>;
  timeseries: Record<string, unknown>;
}

/** One row of a batch, ready to be written: the document consumers query, and its ids. */
export interface PreparedRecord {
  vendorId: string;
  publicId: string;
  name: string;
  document: string;
}

const SOURCE = 'contributor-ingest';
/** Records per `record.*` event: events stay small however big a commit is. */
const RECORDS_PER_EVENT = 1000;

/**
 * The write path, in SQL. Every change and the events describing it are
 * written by the same statement or transaction. Stream batches are one
 * statement; accrue and replace commits are one transaction done inside
 * PostgreSQL (set-based, whatever the number of buffered operations), so they
 * apply fully or not at all and Node never holds the operations in memory.
 */
export class SessionStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: EventOutbox,
  ) {}

  async findTarget(contributionId: string, manager: EntityManager = this.dataSource.manager, lock = false): Promise<ContributionTarget | null> {
    const rows: ContributionTarget[] = await manager.query(
      `SELECT c.id AS "connectorId", c.slug AS "connectorSlug", c.contribution_id AS "contributionId", c.is_live AS "isLive",
              c.session_id AS "sessionId", c.session_mode AS "sessionMode",
              t.id AS "entityTypeId", t.slug AS "entitySlug", t.version AS "entityVersion", t.schema, t.timeseries
         FROM connector c JOIN entity_type t ON t.id = c.entity_type_id
        WHERE c.contribution_id = $1 ${lock ? 'FOR UPDATE OF c' : ''}`,
      [contributionId],
    );
    return rows[0] ?? null;
  }

  /** Opens a session; an open one is rolled back first (its buffered operations discarded). */
  async open(contributionId: string, mode: SessionMode): Promise<string | null> {
    return this.dataSource.transaction(async (manager) => {
      const target = await this.findTarget(contributionId, manager, true);
      if (!target) return null;
      if (target.sessionId) await this.discard(manager, target);
      const sessionId = randomUUID();
      await manager.query(`UPDATE connector SET session_id = $2, session_mode = $3, session_started = now() WHERE id = $1`, [
        target.connectorId,
        sessionId,
        mode,
      ]);
      await this.outbox.append(manager, EventSubjects.SessionOpened, this.sessionPayload(target, sessionId, mode));
      return sessionId;
    });
  }

  /** Stream mode: applies a batch of upserts at once. Unchanged records are not rewritten. Returns how many changed. */
  async upsertNow(target: ContributionTarget, records: PreparedRecord[]): Promise<number> {
    const [{ changed }] = await this.dataSource.query(
      `WITH input AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[]) WITH ORDINALITY AS i(vendor_id, public_id, name, document, ord)
       ), changed AS (
         INSERT INTO record (public_id, connector_id, entity_type_id, vendor_id, name, document)
         SELECT public_id, $5, $6, vendor_id, name, document FROM input ORDER BY ord
         ON CONFLICT (public_id) DO UPDATE
           SET name = EXCLUDED.name, document = EXCLUDED.document, updated_at = now()
           WHERE record.document IS DISTINCT FROM EXCLUDED.document OR record.name IS DISTINCT FROM EXCLUDED.name
         RETURNING public_id, vendor_id
       ), event AS (
         INSERT INTO outbox_event (subject, payload, source)
         SELECT $7, $8::jsonb || jsonb_build_object('records', jsonb_agg(jsonb_build_object('publicId', public_id, 'vendorId', vendor_id))), $9
           FROM changed HAVING count(*) > 0
       )
       SELECT count(*)::int AS changed FROM changed`,
      [
        records.map((record) => record.vendorId),
        records.map((record) => record.publicId),
        records.map((record) => record.name),
        records.map((record) => record.document),
        target.connectorId,
        target.entityTypeId,
        EventSubjects.RecordUpserted,
        JSON.stringify(this.recordsPayload(target)),
        SOURCE,
      ],
    );
    return changed;
  }

  /** Stream mode: deletes records by vendor id at once (unknown ids are ignored). Returns how many were deleted. */
  async deleteNow(target: ContributionTarget, vendorIds: string[]): Promise<number> {
    const [{ deleted }] = await this.dataSource.query(
      `WITH gone AS (
         DELETE FROM record WHERE connector_id = $1 AND vendor_id = ANY($2::text[]) RETURNING public_id, vendor_id
       ), event AS (
         INSERT INTO outbox_event (subject, payload, source)
         SELECT $3, $4::jsonb || jsonb_build_object('records', jsonb_agg(jsonb_build_object('publicId', public_id, 'vendorId', vendor_id))), $5
           FROM gone HAVING count(*) > 0
       )
       SELECT count(*)::int AS deleted FROM gone`,
      [target.connectorId, vendorIds, EventSubjects.RecordDeleted, JSON.stringify(this.recordsPayload(target)), SOURCE],
    );
    return deleted;
  }

  /** Accrue and replace modes: buffers operations, in order, until the session is closed. */
  async buffer(sessionId: string, action: 'upsert' | 'delete', records: PreparedRecord[]): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO session_operation (session_id, action, vendor_id, public_id, name, document)
       SELECT $1, $2, vendor_id, public_id, name, document
         FROM unnest($3::text[], $4::text[], $5::text[], $6::jsonb[]) WITH ORDINALITY AS i(vendor_id, public_id, name, document, ord)
        ORDER BY ord`,
      [
        sessionId,
        action,
        records.map((record) => record.vendorId),
        records.map((record) => record.publicId),
        records.map((record) => (action === 'upsert' ? record.name : null)),
        records.map((record) => (action === 'upsert' ? record.document : null)),
      ],
    );
  }

  /**
   * Closes the session. With `commit`, applies its buffered operations as if in
   * order: the last operation on a vendor id decides its final state; a record
   * deleted and upserted again in the session moves to the end of the insertion
   * order; replace first removes every record of the connector. Without
   * `commit`, discards them. Returns the number of operations applied, or null
   * when the session is not the connector's current one.
   */
  async close(contributionId: string, sessionId: string, commit: boolean): Promise<number | null> {
    return this.dataSource.transaction(async (manager) => {
      const target = await this.findTarget(contributionId, manager, true);
      if (!target || target.sessionId !== sessionId) return null;
      if (!commit) {
        await this.discard(manager, target);
        await this.clearSession(manager, target);
        return 0;
      }
      const applied = target.sessionMode === 'stream' ? 0 : await this.apply(manager, target, target.sessionMode === 'replace');
      await manager.query(`DELETE FROM session_operation WHERE session_id = $1`, [sessionId]);
      await this.clearSession(manager, target);
      await this.outbox.append(manager, EventSubjects.SessionCommitted, {
        ...this.sessionPayload(target, sessionId, target.sessionMode ?? 'stream'),
        operations: applied,
      });
      return applied;
    });
  }

  private async apply(manager: EntityManager, target: ContributionTarget, replace: boolean): Promise<number> {
    const sessionId = target.sessionId!;
    // Final state of each vendor id, with the position applying the operations in order would give it.
    await manager.query(
      `CREATE TEMP TABLE session_final ON COMMIT DROP AS
       WITH ops AS (
         SELECT seq, action, vendor_id, public_id, name, document,
                max(seq) FILTER (WHERE action = 'delete') OVER (PARTITION BY vendor_id) AS last_delete,
                row_number() OVER (PARTITION BY vendor_id ORDER BY seq DESC) AS recency
           FROM session_operation WHERE session_id = $1
       ), positioned AS (
         SELECT *, min(seq) FILTER (WHERE action = 'upsert' AND seq > coalesce(last_delete, 0)) OVER (PARTITION BY vendor_id) AS position
           FROM ops
       )
       SELECT vendor_id, public_id, name, document, action, last_delete IS NOT NULL AS had_delete, position
         FROM positioned WHERE recency = 1`,
      [sessionId],
    );
    const [{ count: operations }] = await manager.query(`SELECT count(*)::int AS count FROM session_operation WHERE session_id = $1`, [
      sessionId,
    ]);
    await manager.query(`CREATE TEMP TABLE session_gone (public_id char(40), vendor_id text, name text, document jsonb) ON COMMIT DROP`);
    await manager.query(
      `WITH gone AS (
         DELETE FROM record r
          WHERE r.connector_id = $1
            AND ($2 OR EXISTS (SELECT 1 FROM session_final f WHERE f.vendor_id = r.vendor_id AND (f.action = 'delete' OR f.had_delete)))
         RETURNING r.public_id, r.vendor_id, r.name, r.document
       )
       INSERT INTO session_gone SELECT * FROM gone`,
      [target.connectorId, replace],
    );
    // Upserts: written unless unchanged; an event for each record whose content is new.
    await manager.query(
      `WITH written AS (
         INSERT INTO record (public_id, connector_id, entity_type_id, vendor_id, name, document)
         SELECT public_id, $1, $2, vendor_id, name, document FROM session_final WHERE action = 'upsert' ORDER BY position
         ON CONFLICT (public_id) DO UPDATE
           SET name = EXCLUDED.name, document = EXCLUDED.document, updated_at = now()
           WHERE record.document IS DISTINCT FROM EXCLUDED.document OR record.name IS DISTINCT FROM EXCLUDED.name
         RETURNING public_id, vendor_id, name, document
       ), changed AS (
         SELECT w.public_id, w.vendor_id, row_number() OVER () AS n
           FROM written w LEFT JOIN session_gone g ON g.vendor_id = w.vendor_id
          WHERE g.vendor_id IS NULL OR g.document IS DISTINCT FROM w.document OR g.name IS DISTINCT FROM w.name
       )
       INSERT INTO outbox_event (subject, payload, source)
       SELECT $3, $4::jsonb || jsonb_build_object('records', jsonb_agg(jsonb_build_object('publicId', public_id, 'vendorId', vendor_id))), $5
         FROM changed GROUP BY (n - 1) / $6`,
      [target.connectorId, target.entityTypeId, EventSubjects.RecordUpserted, JSON.stringify(this.recordsPayload(target)), SOURCE, RECORDS_PER_EVENT],
    );
    // Deletions: what is gone and was not upserted again.
    await manager.query(
      `WITH removed AS (
         SELECT g.public_id, g.vendor_id, row_number() OVER () AS n FROM session_gone g
          WHERE NOT EXISTS (SELECT 1 FROM session_final f WHERE f.vendor_id = g.vendor_id AND f.action = 'upsert')
       )
       INSERT INTO outbox_event (subject, payload, source)
       SELECT $1, $2::jsonb || jsonb_build_object('records', jsonb_agg(jsonb_build_object('publicId', public_id, 'vendorId', vendor_id))), $3
         FROM removed GROUP BY (n - 1) / $4`,
      [EventSubjects.RecordDeleted, JSON.stringify(this.recordsPayload(target)), SOURCE, RECORDS_PER_EVENT],
    );
    return operations;
  }

  private async discard(manager: EntityManager, target: ContributionTarget): Promise<void> {
    await manager.query(`DELETE FROM session_operation WHERE session_id = $1`, [target.sessionId]);
    await this.outbox.append(
      manager,
      EventSubjects.SessionRolledBack,
      this.sessionPayload(target, target.sessionId!, target.sessionMode ?? 'stream'),
    );
  }

  private async clearSession(manager: EntityManager, target: ContributionTarget): Promise<void> {
    await manager.query(`UPDATE connector SET session_id = NULL, session_mode = NULL, session_started = NULL WHERE id = $1`, [
      target.connectorId,
    ]);
  }

  private recordsPayload(target: ContributionTarget) {
    return {
      entityTypeId: target.entitySlug,
      connectorId: target.connectorSlug,
      contributionId: target.contributionId,
      isLive: target.isLive,
      sessionId: target.sessionId,
    };
  }

  private sessionPayload(target: ContributionTarget, sessionId: string, mode: SessionMode) {
    return {
      entityTypeId: target.entitySlug,
      connectorId: target.connectorSlug,
      contributionId: target.contributionId,
      sessionId,
      mode,
    };
  }
}
