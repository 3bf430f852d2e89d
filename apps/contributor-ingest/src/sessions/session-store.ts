import { randomUUID } from 'crypto';
import { Logger } from '@nestjs/common';
import type { Pool, QueryResultRow } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
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

/** One row of a batch, ready to be written: the document consumers query, and its ids (name and document null for deletions). */
export interface PreparedRecord {
  vendorId: string;
  publicId: string;
  name: string | null;
  document: Record<string, unknown> | null;
}

const SOURCE = 'contributor-ingest';
/** Records per `record.*` event: events stay small however big a commit is. */
const RECORDS_PER_EVENT = 1000;
/**
 * Commits of at least this many operations keep their new GIN entries in the
 * index's pending list (one sorted merge right after the commit, rather than
 * merges every 4 MB inside it): the commit is shorter, the work the same.
 */
const DEFERRED_GIN_MERGE_FROM = 10_000;
/** Stream writes between two background GIN merges (the module gives the pending list room for more). */
const STREAM_MERGE_EVERY = 20_000;

/**
 * A batch goes to PostgreSQL as one JSON parameter: one JSON.stringify in Node
 * and one parse in PostgreSQL, instead of four array literals whose every
 * quote is escaped (the most expensive step of the write path in profiles).
 * As `jsonb`: parsed once, the documents then taken out as they are; as
 * `json`, the text was scanned on input, again to split the rows and once
 * more to turn each document into jsonb (12 µs a record more, a fifth of
 * PostgreSQL's work on a stream batch).
 */
function batchJson(records: PreparedRecord[]): string {
  return JSON.stringify(records.map((record) => ({ v: record.vendorId, p: record.publicId, n: record.name, d: record.document })));
}

/** The rows of `batchJson` ($1), in batch order (`ord`). */
const BATCH_ROWS = `ROWS FROM (jsonb_to_recordset($1::jsonb) AS (v text, p text, n text, d jsonb)) WITH ORDINALITY AS b(vendor_id, public_id, name, document, ord)`;

/**
 * CTE `current`: the connector (parameter `connector`), if the session
 * (parameter `session`) is still its current one, share-locked for the
 * statement. A commit or a new open (which lock it for update) waits for the
 * write or makes it a no-op, and the connector cannot be deleted under it
 * (what a per-row foreign key check used to ensure).
 */
function currentSession(connector: string, session: string): string {
  return `current AS (SELECT id FROM connector WHERE id = ${connector} AND session_id = ${session} FOR KEY SHARE)`;
}

/** PostgreSQL's foreign_key_violation: a buffered write whose session was closed meanwhile. */
const FOREIGN_KEY_VIOLATION = '23503';
/** PostgreSQL's unique_violation: a stream INSERT that met an existing record. */
const UNIQUE_VIOLATION = '23505';

/**
 * A stream batch ($1 as `batchJson`, the connector $2 and its type $3, the
 * event's subject $4, base payload $5 and source $6, the session $7) as one
 * statement: the records, written with `onConflict`, and the event naming
 * those that changed. Nothing is written unless the session is the current one.
 */
function streamWrite(onConflict: string): string {
  return `WITH ${currentSession('$2', '$7')}, changed AS (
         INSERT INTO record (public_id, connector_id, entity_type_id, vendor_id, name, document)
         SELECT public_id, $2, $3, vendor_id, name, document FROM ${BATCH_ROWS}, current ORDER BY ord
         ${onConflict}
         RETURNING public_id, vendor_id
       ), event AS (
         INSERT INTO outbox_event (subject, payload, source)
         SELECT $4, $5::jsonb || jsonb_build_object('records', jsonb_agg(jsonb_build_object('publicId', public_id, 'vendorId', vendor_id))), $6
           FROM changed HAVING count(*) > 0
       )
       SELECT (SELECT count(*) FROM current)::int AS current, count(*)::int AS changed FROM changed`;
}

/**
 * The write path, in SQL. Every change and the events describing it are
 * written by the same statement or transaction. Stream batches are one
 * statement; accrue and replace commits are one transaction done inside
 * PostgreSQL (set-based, whatever the number of buffered operations), so they
 * apply fully or not at all and Node never holds the operations in memory.
 */
export class SessionStore {
  private readonly logger = new Logger(SessionStore.name);
  private ginIndexes?: Promise<string[]>;
  private readonly merges = new Set<Promise<void>>();
  /** Records streamed since the last GIN pending-list merge this process started. */
  private streamedSinceMerge = 0;
  /** Stream sessions that met existing records: they upsert (see `upsertNow`). */
  private readonly updatingSessions = new Set<string>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: EventOutbox,
  ) {}

  /**
   * The connector and its type. Given a transaction's manager, the connector's
   * row is locked for update until that transaction ends; without one (before
   * every batch), a prepared statement.
   */
  async findTarget(contributionId: string, lockIn?: EntityManager): Promise<ContributionTarget | null> {
    const text = `SELECT c.id AS "connectorId", c.slug AS "connectorSlug", c.contribution_id AS "contributionId", c.is_live AS "isLive",
              c.session_id AS "sessionId", c.session_mode AS "sessionMode",
              t.id AS "entityTypeId", t.slug AS "entitySlug", t.version AS "entityVersion", t.schema, t.timeseries
         FROM connector c JOIN entity_type t ON t.id = c.entity_type_id
        WHERE c.contribution_id = $1`;
    const rows: ContributionTarget[] = lockIn
      ? await lockIn.query(`${text} FOR UPDATE OF c`, [contributionId])
      : await this.prepared('ingest_find_target', text, [contributionId]);
    return rows[0] ?? null;
  }

  /** Opens a session; an open one is rolled back first (its buffered operations discarded). */
  async open(contributionId: string, mode: SessionMode): Promise<string | null> {
    return this.dataSource.transaction(async (manager) => {
      const target = await this.findTarget(contributionId, manager);
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

  /**
   * Stream mode: applies a batch of upserts at once. Unchanged records are not
   * rewritten. Returns how many changed, or null when the session is no longer
   * the connector's current one.
   *
   * Until a session meets a record that exists already, its batches are plain
   * INSERTs: an upsert (ON CONFLICT) looks every row up in the public id index
   * before inserting it there, a second descent of a random-keyed index that
   * was a tenth of PostgreSQL's work on a million-row harvest. A batch holding
   * an existing record fails as a whole (nothing written) and is written again
   * as an upsert, like every later batch of that session.
   */
  async upsertNow(target: ContributionTarget, records: PreparedRecord[]): Promise<number | null> {
    const values = [
      batchJson(records),
      target.connectorId,
      target.entityTypeId,
      EventSubjects.RecordUpserted,
      JSON.stringify(this.recordsPayload(target)),
      SOURCE,
      target.sessionId,
    ];
    let rows: Array<{ current: number; changed: number }> | undefined;
    if (!this.updatingSessions.has(target.sessionId!)) {
      try {
        rows = await this.prepared('ingest_insert_now', streamWrite(''), values, UNIQUE_VIOLATION);
      } catch (error) {
        if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
        if (this.updatingSessions.size >= 10_000) this.updatingSessions.clear();
        this.updatingSessions.add(target.sessionId!);
      }
    }
    rows ??= await this.prepared(
      'ingest_upsert_now',
      streamWrite(`ON CONFLICT (public_id) DO UPDATE
           SET name = EXCLUDED.name, document = EXCLUDED.document, updated_at = now()
           WHERE record.document IS DISTINCT FROM EXCLUDED.document OR record.name IS DISTINCT FROM EXCLUDED.name`),
      values,
    );
    const [{ current, changed }] = rows;
    if (current && changed > 0) {
      this.outbox.committed();
      this.noteStreamed(changed);
    }
    return current ? changed : null;
  }

  /**
   * A named statement, through node-postgres' pool under TypeORM (whose
   * `query()` cannot name one): parsed and planned once per connection rather
   * than for every batch. Failures are reported like TypeORM's.
   */
  private async prepared<T extends QueryResultRow>(name: string, text: string, values: unknown[], expectedError?: string): Promise<T[]> {
    const pool = (this.dataSource.driver as PostgresDriver).master as Pool;
    try {
      return (await pool.query<T>({ name, text, values })).rows;
    } catch (error) {
      if ((error as { code?: string }).code !== expectedError) this.dataSource.logger.logQueryError(error as Error, text, [], undefined);
      throw error;
    }
  }

  /**
   * Stream writes add to the GIN pending list; merging it in bulk, in the
   * background, every STREAM_MERGE_EVERY records keeps the merge (and its
   * latency) out of the writers' statements, which would otherwise do it
   * whenever the list passes gin_pending_list_limit.
   */
  private noteStreamed(records: number): void {
    this.streamedSinceMerge += records;
    if (this.streamedSinceMerge < STREAM_MERGE_EVERY || this.merges.size > 0) return;
    this.streamedSinceMerge = 0;
    this.mergeGinPendingLists();
  }

  /** Stream mode: deletes records at once, by public id (unknown ones are ignored). Returns how many were deleted, or null as above. */
  async deleteNow(target: ContributionTarget, records: PreparedRecord[]): Promise<number | null> {
    const [{ current, deleted }] = await this.dataSource.query(
      `WITH ${currentSession('$1', '$6')}, gone AS (
         DELETE FROM record r USING current WHERE r.public_id = ANY($2::text[]) AND r.connector_id = $1 RETURNING r.public_id, r.vendor_id
       ), event AS (
         INSERT INTO outbox_event (subject, payload, source)
         SELECT $3, $4::jsonb || jsonb_build_object('records', jsonb_agg(jsonb_build_object('publicId', public_id, 'vendorId', vendor_id))), $5
           FROM gone HAVING count(*) > 0
       )
       SELECT (SELECT count(*) FROM current)::int AS current, count(*)::int AS deleted FROM gone`,
      [
        target.connectorId,
        records.map((record) => record.publicId),
        EventSubjects.RecordDeleted,
        JSON.stringify(this.recordsPayload(target)),
        SOURCE,
        target.sessionId,
      ],
    );
    if (current && deleted > 0) this.outbox.committed();
    return current ? deleted : null;
  }

  /**
   * Accrue and replace modes: buffers operations, in order, until the session
   * is closed. False when the session ended meanwhile (closed or replaced by a
   * new open between the caller's session check and this insert).
   */
  async buffer(sessionId: string, action: 'upsert' | 'delete', records: PreparedRecord[]): Promise<boolean> {
    if (records.length === 0) return true;
    try {
      await this.dataSource.query(
        `INSERT INTO session_operation (session_id, action, vendor_id, public_id, name, document)
         SELECT $2, $3, vendor_id, public_id, name, document FROM ${BATCH_ROWS} ORDER BY ord`,
        [batchJson(records), sessionId, action],
      );
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === FOREIGN_KEY_VIOLATION) return false;
      throw error;
    }
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
    let deferredGinMerge = false;
    const applied = await this.dataSource.transaction(async (manager) => {
      const target = await this.findTarget(contributionId, manager);
      if (!target || target.sessionId !== sessionId) return null;
      if (!commit) {
        await this.discard(manager, target);
        await this.clearSession(manager, target);
        return 0;
      }
      let applied = 0;
      if (target.sessionMode !== 'stream') {
        [{ count: applied }] = await manager.query(`SELECT count(*)::int AS count FROM session_operation WHERE session_id = $1`, [sessionId]);
        deferredGinMerge = applied >= DEFERRED_GIN_MERGE_FROM;
        await this.apply(manager, target, target.sessionMode === 'replace', deferredGinMerge);
        await manager.query(`DELETE FROM session_operation WHERE session_id = $1`, [sessionId]);
      }
      await this.clearSession(manager, target);
      await this.outbox.append(manager, EventSubjects.SessionCommitted, {
        ...this.sessionPayload(target, sessionId, target.sessionMode ?? 'stream'),
        operations: applied,
      });
      return applied;
    });
    if (deferredGinMerge) this.mergeGinPendingLists();
    return applied;
  }

  /** Nest shutdown hook (before the connection pool closes): lets the GIN merges started after big commits finish. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.merges]);
  }

  /**
   * Applies the session's operations, all inside PostgreSQL: Node never sees
   * them, whatever their number. `session_final` holds the final state of each
   * vendor id (keys and positions only; the documents stay in
   * `session_operation` and are read once, by the insert).
   */
  private async apply(manager: EntityManager, target: ContributionTarget, replace: boolean, deferGinMerge: boolean): Promise<void> {
    const sessionId = target.sessionId!;
    // Enough memory for this transaction's sorts and hashes (the largest: the final documents in position
    // order), so that a commit of about 100,000 operations runs without temporary files.
    await manager.query(`SET LOCAL work_mem = '128MB'`);
    // Should this process die mid-commit, PostgreSQL notices within a second and rolls back (releasing the
    // connector's lock) rather than finishing a statement of several seconds nobody will commit.
    await manager.query(`SET LOCAL client_connection_check_interval = '1s'`);
    if (deferGinMerge) await manager.query(`SET LOCAL gin_pending_list_limit = '512MB'`);
    // Per vendor id: the last operation (action, seq), whether a delete came before it, and the position
    // applying the operations in order would give the record (its first upsert after its last delete).
    await manager.query(
      `CREATE TEMP TABLE session_final ON COMMIT DROP AS
       WITH ops AS (
         SELECT seq, action, vendor_id, public_id,
                max(seq) FILTER (WHERE action = 'delete') OVER (PARTITION BY vendor_id) AS last_delete,
                row_number() OVER (PARTITION BY vendor_id ORDER BY seq DESC) AS recency
           FROM session_operation WHERE session_id = $1
       ), positioned AS (
         SELECT *, min(seq) FILTER (WHERE action = 'upsert' AND seq > coalesce(last_delete, 0)) OVER (PARTITION BY vendor_id) AS position
           FROM ops
       )
       SELECT vendor_id, public_id, action, seq AS last_seq, last_delete IS NOT NULL AS had_delete, position
         FROM positioned WHERE recency = 1`,
      [sessionId],
    );
    await manager.query(`ANALYZE session_final`);
    await manager.query(`CREATE TEMP TABLE session_gone (public_id char(40), vendor_id text, name text, document jsonb) ON COMMIT DROP`);
    await manager.query(
      replace
        ? `WITH gone AS (DELETE FROM record WHERE connector_id = $1 RETURNING public_id, vendor_id, name, document)
           INSERT INTO session_gone SELECT * FROM gone`
        : `WITH gone AS (
             DELETE FROM record r USING session_final f
              WHERE r.public_id = f.public_id AND r.connector_id = $1 AND (f.action = 'delete' OR f.had_delete)
             RETURNING r.public_id, r.vendor_id, r.name, r.document
           )
           INSERT INTO session_gone SELECT * FROM gone`,
      [target.connectorId],
    );
    await manager.query(`ANALYZE session_gone`);
    // Upserts (each final document joined by its seq): records that exist are updated in place unless
    // unchanged; the others are inserted in position order. The connector is locked for update, so no
    // other writer can add one of its records meanwhile: a plain INSERT is safe, and much cheaper in bulk
    // than ON CONFLICT's speculative insertion. When the connector has no record left (always after a
    // replace's removal; on a first load), there is nothing to update and nothing to look up: every
    // upsert is an insert. An event names each record whose content is new: not one that was removed
    // above and comes back identical.
    const [{ found: recordsLeft }] = replace
      ? [{ found: false }]
      : await manager.query(`SELECT EXISTS (SELECT 1 FROM record WHERE connector_id = $1) AS found`, [target.connectorId]);
    await manager.query(
      `WITH final AS (
         SELECT f.public_id, f.vendor_id, f.position, o.name, o.document
           FROM session_final f JOIN session_operation o ON o.session_id = $3 AND o.seq = f.last_seq
          WHERE f.action = 'upsert'
       ), ${
         recordsLeft
           ? `updated AS (
         UPDATE record r SET name = final.name, document = final.document, updated_at = now()
           FROM final
          WHERE r.public_id = final.public_id AND r.connector_id = $1
            AND (r.document IS DISTINCT FROM final.document OR r.name IS DISTINCT FROM final.name)
         RETURNING r.public_id, r.vendor_id
       ), `
           : ''
       }inserted AS (
         INSERT INTO record (public_id, connector_id, entity_type_id, vendor_id, name, document)
         SELECT final.public_id, $1, $2, final.vendor_id, final.name, final.document
           FROM final ${recordsLeft ? 'WHERE NOT EXISTS (SELECT 1 FROM record r WHERE r.public_id = final.public_id)' : ''}
          ORDER BY final.position
         RETURNING public_id, vendor_id
       ), changed AS (
         SELECT public_id, vendor_id, row_number() OVER () AS n
           FROM (${recordsLeft ? 'SELECT public_id, vendor_id FROM updated UNION ALL ' : ''}
                 SELECT i.public_id, i.vendor_id FROM inserted i
                  WHERE NOT EXISTS (
                    SELECT 1 FROM session_gone g
                      JOIN session_final f ON f.public_id = g.public_id
                      JOIN session_operation o ON o.session_id = $3 AND o.seq = f.last_seq
                     WHERE g.public_id = i.public_id AND g.document = o.document AND g.name = o.name)) c
       )
       INSERT INTO outbox_event (subject, payload, source)
       SELECT $4, $5::jsonb || jsonb_build_object('records', jsonb_agg(jsonb_build_object('publicId', public_id, 'vendorId', vendor_id))), $6
         FROM changed GROUP BY (n - 1) / $7`,
      [
        target.connectorId,
        target.entityTypeId,
        sessionId,
        EventSubjects.RecordUpserted,
        JSON.stringify(this.recordsPayload(target)),
        SOURCE,
        RECORDS_PER_EVENT,
      ],
    );
    // Deletions: what is gone and was not upserted again.
    await manager.query(
      `WITH removed AS (
         SELECT g.public_id, g.vendor_id, row_number() OVER () AS n FROM session_gone g
          WHERE NOT EXISTS (SELECT 1 FROM session_final f WHERE f.public_id = g.public_id AND f.action = 'upsert')
       )
       INSERT INTO outbox_event (subject, payload, source)
       SELECT $1, $2::jsonb || jsonb_build_object('records', jsonb_agg(jsonb_build_object('publicId', public_id, 'vendorId', vendor_id))), $3
         FROM removed GROUP BY (n - 1) / $4`,
      [EventSubjects.RecordDeleted, JSON.stringify(this.recordsPayload(target)), SOURCE, RECORDS_PER_EVENT],
    );
  }

  /**
   * After a big commit, merges the GIN pending lists of `record` (what the
   * commit deferred), in the background: the records are visible and found by
   * queries already (GIN scans read the pending list too); this keeps the next
   * small write from doing the merge in its own request, and does not rely on
   * autovacuum. A failure (e.g. not the index owner) only costs that.
   */
  private mergeGinPendingLists(): void {
    this.ginIndexes ??= this.dataSource
      .query(
        `SELECT i.indexrelid::regclass::text AS name FROM pg_index i
           JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
          WHERE i.indrelid = 'record'::regclass AND a.amname = 'gin'`,
      )
      .then((rows: Array<{ name: string }>) => rows.map((row) => row.name));
    const merge = this.ginIndexes
      .then(async (names) => {
        for (const name of names) await this.dataSource.query(`SELECT gin_clean_pending_list($1::regclass)`, [name]);
      })
      .catch((error: unknown) => this.logger.warn(`GIN pending list merge after a commit failed: ${(error as Error).message}`))
      .finally(() => this.merges.delete(merge));
    this.merges.add(merge);
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
