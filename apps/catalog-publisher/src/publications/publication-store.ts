import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { EventSubjects, PublicationChanged } from '@odb/contracts';
import { EventOutbox } from '@odb/messaging';
import { PublicationLogEntry, PublicationStatus } from '@odb/persistence';

/** A publication row with what a push needs to know of its remote catalog. */
export interface PublicationRow {
  id: number;
  entity_type_slug: string;
  remote_catalog_id: number;
  organization: string | null;
  visibility: 'public' | 'private';
  status: PublicationStatus;
  remote_id: string | null;
  resource_ids: Record<string, string>;
  requested_version: number;
  pushed_version: number | null;
  last_success_at: Date | null;
  catalog_slug: string;
}

export type Claim =
  | { kind: 'claimed'; publication: PublicationRow }
  /** Nothing to do: pushed already, or given up on until the next change. */
  | { kind: 'idle' }
  | { kind: 'gone' }
  /** Another push holds it, or a backoff runs: try again at `until`. */
  | { kind: 'busy'; until: Date };

/** Which publications an event concerns: those of an entity type, of a remote catalog (by slug), or one. */
export type PublicationSelector = { entityType: string; catalog?: string } | { catalog: string };

function where(selector: PublicationSelector): { condition: string; params: string[] } {
  if ('entityType' in selector && selector.catalog !== undefined) {
    return { condition: 'p.entity_type_slug = $1 AND c.slug = $2', params: [selector.entityType, selector.catalog] };
  }
  if ('entityType' in selector) return { condition: 'p.entity_type_slug = $1', params: [selector.entityType] };
  return { condition: 'c.slug = $1', params: [selector.catalog] };
}

export interface PushOutcome {
  remoteId: string;
  remoteUrl: string;
  resourceIds: Record<string, string>;
}

const ROW_COLUMNS = `p.id, p.entity_type_slug, p.remote_catalog_id, p.organization, p.visibility, p.status, p.remote_id,
  p.resource_ids, p.requested_version, p.pushed_version, p.last_success_at, c.slug AS catalog_slug`;

/**
 * The publisher's side of the `publication` table. Every change that concerns
 * a publication bumps `requested_version` (exactly once per event: handlers
 * are idempotent); a push claims the row with a lease, pushes the state of
 * that moment, and records `pushed_version`. A change that arrives during a
 * push leaves `requested_version` ahead, so the publication goes back to
 * `waiting` instead of `done`: no change is ever lost to a race, and any
 * number of replicas and duplicate jobs is safe.
 */
@Injectable()
export class PublicationStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: EventOutbox,
  ) {}

  /** Marks the publications matched by `selector` as changed; returns their ids. `deleting` ones are left alone. */
  async markChanged(manager: EntityManager, selector: PublicationSelector): Promise<number[]> {
    const { condition, params } = where(selector);
    const rows = returned<{ id: number; entity_type_slug: string; catalog_slug: string }>(
      await manager.query(
        `UPDATE publication p
            SET requested_version = p.requested_version + 1,
                status = CASE WHEN p.status = 'running' THEN 'running' ELSE 'waiting' END,
                updated_at = now()
           FROM remote_catalog c
          WHERE c.id = p.remote_catalog_id AND p.status <> 'deleting' AND ${condition}
          RETURNING p.id, p.entity_type_slug, c.slug AS catalog_slug`,
        params,
      ),
    );
    await this.emit(manager, EventSubjects.PublicationQueued, rows.map((row) => ({ entityTypeId: row.entity_type_slug, remoteCatalogId: row.catalog_slug, status: 'waiting' })));
    return rows.map((row) => row.id);
  }

  /** The publications of a deleted entity type: their remote datasets go too. */
  async markDeleting(manager: EntityManager, entitySlug: string): Promise<number[]> {
    const rows = returned<{ id: number }>(
      await manager.query(`UPDATE publication SET status = 'deleting', retry_at = NULL, updated_at = now() WHERE entity_type_slug = $1 RETURNING id`, [
        entitySlug,
      ]),
    );
    return rows.map((row) => row.id);
  }

  /** A publication whose entity type is gone while it was not deleting yet (events may come in any order). */
  async markDeletingById(id: number): Promise<void> {
    await this.dataSource.query(`UPDATE publication SET status = 'deleting', updated_at = now() WHERE id = $1`, [id]);
  }

  /** Ids of the publications matched by `selector` that have work pending. */
  async pendingIds(selector: PublicationSelector): Promise<number[]> {
    const { condition, params } = where(selector);
    const rows: Array<{ id: number }> = await this.dataSource.query(
      `SELECT p.id FROM publication p JOIN remote_catalog c ON c.id = p.remote_catalog_id
        WHERE p.status IN ('waiting', 'running', 'deleting') AND ${condition}`,
      params,
    );
    return rows.map((row) => row.id);
  }

  /** How many updates to datasets of a catalog published as `organization` (`''`: the catalog's own, or none) are pending. */
  async pendingUpdates(catalogId: number, organization: string): Promise<number> {
    const [{ count }]: Array<{ count: number }> = await this.dataSource.query(
      `SELECT count(*)::int AS count FROM publication p JOIN remote_catalog c ON c.id = p.remote_catalog_id
        WHERE p.remote_catalog_id = $1 AND coalesce(p.organization, c.organization, '') = $2
          AND p.status IN ('waiting', 'running') AND p.remote_id IS NOT NULL`,
      [catalogId, organization],
    );
    return count;
  }

  /** Remote ids of every dataset of a catalog published as `organization`. */
  async remoteIdsOf(catalogId: number, organization: string): Promise<string[]> {
    const rows: Array<{ remote_id: string }> = await this.dataSource.query(
      `SELECT p.remote_id FROM publication p JOIN remote_catalog c ON c.id = p.remote_catalog_id
        WHERE p.remote_catalog_id = $1 AND coalesce(p.organization, c.organization, '') = $2
          AND p.status <> 'deleting' AND p.remote_id IS NOT NULL`,
      [catalogId, organization],
    );
    return rows.map((row) => row.remote_id);
  }

  /** Takes the publication for one push (or deletion) when it has work and nobody else holds it. */
  async claim(id: number, leaseMs: number): Promise<Claim> {
    const claimed = returned<PublicationRow>(await this.dataSource.query(
      `UPDATE publication p
          SET status = CASE WHEN p.status = 'deleting' THEN 'deleting' ELSE 'running' END,
              lease_until = now() + $2 * interval '1 millisecond', last_run_at = now(), updated_at = now()
         FROM remote_catalog c
        WHERE p.id = $1 AND c.id = p.remote_catalog_id
          AND p.status IN ('waiting', 'deleting', 'running')
          AND (p.lease_until IS NULL OR p.lease_until < now())
          AND (p.retry_at IS NULL OR p.retry_at <= now())
        RETURNING ${ROW_COLUMNS}`,
      [id, leaseMs],
    ));
    if (claimed.length > 0) return { kind: 'claimed', publication: claimed[0] };
    const [row]: Array<{ status: PublicationStatus; until: Date | null }> = await this.dataSource.query(
      `SELECT status, CASE WHEN lease_until > now() OR retry_at > now() THEN greatest(lease_until, retry_at) END AS until
         FROM publication WHERE id = $1`,
      [id],
    );
    if (!row) return { kind: 'gone' };
    if (row.until) return { kind: 'busy', until: new Date(row.until) };
    return { kind: 'idle' };
  }

  async extendLease(id: number, leaseMs: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE publication SET lease_until = now() + $2 * interval '1 millisecond' WHERE id = $1 AND lease_until IS NOT NULL`,
      [id, leaseMs],
    );
  }

  /** Records a successful push of `version`; returns the status it leaves (`waiting` when a change came in meanwhile). */
  async succeeded(publication: PublicationRow, version: number, outcome: PushOutcome, log: PublicationLogEntry[]): Promise<PublicationStatus> {
    return this.dataSource.transaction(async (manager) => {
      const [row] = returned<{ status: PublicationStatus }>(await manager.query(
        `UPDATE publication
            SET pushed_version = $2, remote_id = $3, remote_url = $4, resource_ids = $5, last_log = $6,
                last_success_at = now(), last_error = NULL, lease_until = NULL, retry_at = NULL, updated_at = now(),
                status = CASE WHEN status = 'deleting' THEN 'deleting' WHEN requested_version > $2 THEN 'waiting' ELSE 'done' END
          WHERE id = $1
          RETURNING status`,
        [publication.id, version, outcome.remoteId, outcome.remoteUrl, JSON.stringify(outcome.resourceIds), JSON.stringify(log)],
      ));
      if (!row) return 'done'; // removed meanwhile: nothing left to do
      await this.emit(manager, EventSubjects.PublicationSucceeded, [
        { entityTypeId: publication.entity_type_slug, remoteCatalogId: publication.catalog_slug, status: publicStatus(row.status), remoteId: outcome.remoteId },
      ]);
      return row.status;
    });
  }

  /**
   * Records a failed attempt. Not final: another attempt follows (not before
   * `retryAt`), the publication waits. Final: it is `error` until the next
   * change or a manual publish (`waiting` at once if a change came in
   * meanwhile); a deletion stays `deleting` and is retried by the sweep after
   * `retryAt`.
   */
  async failed(
    publication: PublicationRow,
    version: number,
    error: string,
    log: PublicationLogEntry[],
    next: { retryAt: Date | null; final: boolean },
  ): Promise<PublicationStatus> {
    return this.dataSource.transaction(async (manager) => {
      const [row] = returned<{ status: PublicationStatus }>(await manager.query(
        `UPDATE publication
            SET last_error = $2, last_log = $3, lease_until = NULL, retry_at = $4, updated_at = now(),
                status = CASE WHEN status = 'deleting' THEN 'deleting'
                              WHEN NOT $6 OR requested_version > $5 THEN 'waiting'
                              ELSE 'error' END
          WHERE id = $1
          RETURNING status`,
        [publication.id, error, JSON.stringify(log), next.retryAt, version, next.final],
      ));
      if (!row) return 'done';
      if (next.final && (row.status === 'error' || row.status === 'deleting')) {
        await this.emit(manager, EventSubjects.PublicationFailed, [
          { entityTypeId: publication.entity_type_slug, remoteCatalogId: publication.catalog_slug, status: 'error', remoteId: publication.remote_id, error },
        ]);
      }
      return row.status;
    });
  }

  /** The remote dataset is gone: so is the publication. */
  async removed(publication: PublicationRow): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const deleted = returned(await manager.query(`DELETE FROM publication WHERE id = $1 AND status = 'deleting' RETURNING id`, [publication.id]));
      if (deleted.length === 0) return;
      await this.emit(manager, EventSubjects.PublicationSucceeded, [
        { entityTypeId: publication.entity_type_slug, remoteCatalogId: publication.catalog_slug, remoteId: null },
      ]);
    });
  }

  /** Every publication with work pending, held or not (start-up: jobs of a crashed replica may be gone). */
  async pending(): Promise<number[]> {
    const rows: Array<{ id: number }> = await this.dataSource.query(
      `SELECT id FROM publication WHERE status IN ('waiting', 'running', 'deleting') ORDER BY updated_at`,
    );
    return rows.map((row) => row.id);
  }

  /**
   * Publications with work that no job seems to carry: untouched for
   * `idleMs` and not in a backoff, or held by a lease that expired (a crash).
   */
  async stranded(idleMs: number): Promise<number[]> {
    const rows: Array<{ id: number }> = await this.dataSource.query(
      `SELECT id FROM publication
        WHERE (status IN ('waiting', 'deleting') AND updated_at <= now() - $1 * interval '1 millisecond'
               AND (lease_until IS NULL OR lease_until < now()) AND (retry_at IS NULL OR retry_at <= now()))
           OR (status = 'running' AND lease_until < now())
        ORDER BY updated_at`,
      [idleMs],
    );
    return rows.map((row) => row.id);
  }

  private async emit(manager: EntityManager, subject: 'publication.queued' | 'publication.succeeded' | 'publication.failed', payloads: PublicationChanged[]): Promise<void> {
    await this.outbox.appendMany(manager, payloads.map((payload) => ({ subject, payload })));
  }
}

/** The statuses events know (`deleting` is the API's own). */
function publicStatus(status: PublicationStatus): PublicationChanged['status'] {
  return status === 'deleting' ? undefined : status;
}

/** Rows of an UPDATE/DELETE … RETURNING: TypeORM's PostgreSQL driver answers those with `[rows, affected]`. */
function returned<T = unknown>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}
