import { Injectable } from '@nestjs/common';
import { randomUUID } from 'crypto';
import { DataSource, EntityManager } from 'typeorm';
import { EventSubjects, HarvestOutcome, HarvestRunStatus } from '@odb/contracts';
import { EventOutbox } from '@odb/messaging';

/** What the harvester needs of a source and its catalog (API key still sealed). */
export interface HarvestSourceRecord {
  id: number;
  slug: string;
  mode: 'metadata' | 'data';
  filters: { organization?: string; tags?: string[]; query?: string; resource_formats?: string[] };
  schedule: string | null;
  timezone: string;
  on_removed: 'delete' | 'keep';
  max_items: number | null;
  row_key: string | null;
  entity_type: string | null;
  contribution_id: string | null;
  catalog: { slug: string; type: string; url: string; organization: string | null; api_key_sealed: string | null };
}

export interface ClaimedRun {
  id: string;
  dryRun: boolean;
  source: HarvestSourceRecord;
}

export type ClaimResult =
  | { claimed: ClaimedRun }
  /** Another run of the source is running: try later. */
  | { busy: true }
  /** Nothing to do: the source or the requested run is gone, or the run was already handled. */
  | { gone: string };

export interface RunItem {
  remoteId: string | null;
  title?: string | null;
  outcome: HarvestOutcome;
  message?: string | null;
  details?: Record<string, unknown> | null;
}

export interface RunReport {
  counts: Record<string, number>;
  progress: Record<string, unknown>;
  listingComplete: boolean;
}

/** Known items of a source (what it brought in before): remote id → content hash and details. */
export interface KnownItem {
  contentHash: string;
  entityTypeId: number | null;
  details: Record<string, any>;
}

/**
 * The harvester's tables: runs (claimed under a row lock of the source, with
 * a partial unique index as the last word: one running run per source),
 * their per-item reports, and what each source brought in. Run events go
 * through the outbox in the transaction of the state change.
 */
@Injectable()
export class RunStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: EventOutbox,
  ) {}

  async source(slug: string, manager: EntityManager = this.dataSource.manager, lock = false): Promise<HarvestSourceRecord | undefined> {
    const [row] = await manager.query(
      `SELECT s.id, s.slug, s.mode, s.filters, s.schedule, s.timezone, s.on_removed, s.max_items, s.row_key,
              t.slug AS entity_type, k.contribution_id,
              json_build_object('slug', c.slug, 'type', c.type, 'url', c.url, 'organization', c.organization, 'api_key_sealed', c.api_key_sealed) AS catalog
         FROM harvest_source s JOIN remote_catalog c ON c.id = s.remote_catalog_id
         LEFT JOIN entity_type t ON t.id = s.entity_type_id LEFT JOIN connector k ON k.id = s.connector_id
        WHERE s.slug = $1 ${lock ? 'FOR UPDATE OF s' : ''}`,
      [slug],
    );
    return row;
  }

  async schedules(): Promise<Array<{ slug: string; schedule: string | null; timezone: string }>> {
    return this.dataSource.query(`SELECT slug, schedule, timezone FROM harvest_source ORDER BY slug`);
  }

  /**
   * Starts a run of a source, if none is running. Runs whose heartbeat is
   * older than `staleAfterMs` were interrupted (a crashed replica): they are
   * marked failed first, so the new run starts cleanly.
   */
  async claim(sourceSlug: string, runId: string | undefined, worker: string, staleAfterMs: number): Promise<ClaimResult> {
    return this.dataSource.transaction(async (manager) => {
      const source = await this.source(sourceSlug, manager, true);
      if (!source) {
        if (runId) await this.failQueued(manager, runId, 'the harvest source was deleted');
        return { gone: `harvest source ${sourceSlug} no longer exists` };
      }
      await this.failStale(manager, staleAfterMs, source.id);
      const running = await manager.query(`SELECT 1 FROM harvest_run WHERE harvest_source_id = $1 AND status = 'running'`, [source.id]);
      if (running.length > 0) return { busy: true };
      let run: { id: string; dry_run: boolean } | undefined;
      if (runId) {
        [run] = returned(
          await manager.query(
            `UPDATE harvest_run SET status = 'running', started_at = clock_timestamp(), heartbeat_at = now(), worker = $3
              WHERE id = $1 AND harvest_source_id = $2 AND status = 'queued' RETURNING id, dry_run`,
            [runId, source.id, worker],
          ),
        );
        if (!run) return { gone: `run ${runId} is not queued any more` };
      } else {
        [run] = await manager.query(
          `INSERT INTO harvest_run (id, harvest_source_id, status, trigger, started_at, heartbeat_at, worker)
           VALUES ($1, $2, 'running', 'schedule', clock_timestamp(), clock_timestamp(), $3) RETURNING id, dry_run`,
          [randomUUID(), source.id, worker],
        );
      }
      await this.outbox.append(manager, EventSubjects.HarvestRunStarted, { harvestSourceId: source.slug, runId: run!.id, status: 'running' });
      return { claimed: { id: run!.id, dryRun: run!.dry_run, source } };
    });
  }

  /** Marks interrupted runs (no heartbeat for `staleAfterMs`) failed, with their events. Returns how many. */
  async failStale(manager: EntityManager | undefined, staleAfterMs: number, sourceId?: number): Promise<number> {
    const work = async (m: EntityManager) => {
      const stale: Array<{ id: string; slug: string; counts: Record<string, number> }> = returned(await m.query(
        `UPDATE harvest_run r SET status = 'failed', finished_at = now(),
                error = 'interrupted: no heartbeat since ' || to_char(r.heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ' (the harvester stopped or crashed)'
           FROM harvest_source s
          WHERE s.id = r.harvest_source_id AND r.status = 'running' AND r.heartbeat_at < now() - ($1 || ' milliseconds')::interval
            AND ($2::int IS NULL OR r.harvest_source_id = $2)
          RETURNING r.id, s.slug, r.counts`,
        [String(staleAfterMs), sourceId ?? null],
      ));
      for (const run of stale) {
        await this.outbox.append(m, EventSubjects.HarvestRunFailed, {
          harvestSourceId: run.slug,
          runId: run.id,
          status: 'failed',
          counts: run.counts,
          error: 'interrupted (no heartbeat)',
        });
      }
      return stale.length;
    };
    return manager ? work(manager) : this.dataSource.transaction(work);
  }

  /**
   * Heartbeat with progress. False when the run is no longer ours (marked
   * failed as interrupted, or deleted with its source): the caller stops.
   */
  async heartbeat(runId: string, report: RunReport): Promise<boolean> {
    const updated = returned(
      await this.dataSource.query(
        `UPDATE harvest_run SET heartbeat_at = now(), counts = $2, progress = $3 WHERE id = $1 AND status = 'running' RETURNING id`,
        [runId, JSON.stringify(report.counts), JSON.stringify(report.progress)],
      ),
    );
    return updated.length > 0;
  }

  async finish(run: ClaimedRun, status: Exclude<HarvestRunStatus, 'queued' | 'running'>, report: RunReport, error?: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const updated = returned(
        await manager.query(
          `UPDATE harvest_run SET status = $2, finished_at = clock_timestamp(), heartbeat_at = now(), counts = $3, progress = $4, listing_complete = $5, error = $6
            WHERE id = $1 AND status = 'running' RETURNING id`,
          [run.id, status, JSON.stringify(report.counts), JSON.stringify(report.progress), report.listingComplete, error ?? null],
        ),
      );
      if (updated.length === 0) return; // already marked failed (interrupted) or deleted with its source
      const payload = { harvestSourceId: run.source.slug, runId: run.id, status, counts: report.counts, ...(error ? { error } : {}) };
      await this.outbox.append(manager, status === 'failed' ? EventSubjects.HarvestRunFailed : EventSubjects.HarvestRunCompleted, payload);
    });
  }

  async addItems(runId: string, items: RunItem[]): Promise<void> {
    if (items.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO harvest_run_item (run_id, remote_id, title, outcome, message, details)
       SELECT $1, remote_id, title, outcome, message, details
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[]) WITH ORDINALITY AS i(remote_id, title, outcome, message, details, ord)
        ORDER BY ord`,
      [
        runId,
        items.map((item) => item.remoteId),
        items.map((item) => item.title ?? null),
        items.map((item) => item.outcome),
        items.map((item) => item.message ?? null),
        items.map((item) => (item.details ? JSON.stringify(item.details) : null)),
      ],
    );
  }

  async knownItems(sourceId: number): Promise<Map<string, KnownItem>> {
    const rows: Array<{ remote_id: string; content_hash: string; entity_type_id: number | null; details: Record<string, any> }> =
      await this.dataSource.query(`SELECT remote_id, content_hash, entity_type_id, details FROM harvested_item WHERE harvest_source_id = $1`, [
        sourceId,
      ]);
    return new Map(rows.map((row) => [row.remote_id, { contentHash: row.content_hash, entityTypeId: row.entity_type_id, details: row.details }]));
  }

  async saveItems(
    sourceId: number,
    runId: string,
    items: Array<{ remoteId: string; contentHash: string; entityTypeSlug?: string | null; details?: Record<string, unknown> }>,
  ): Promise<void> {
    if (items.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO harvested_item (harvest_source_id, remote_id, content_hash, last_run_id, entity_type_id, details, updated_at)
       SELECT $1, i.remote_id, i.content_hash, $2, t.id, coalesce(i.details, '{}'), now()
         FROM unnest($3::text[], $4::text[], $5::text[], $6::jsonb[]) AS i(remote_id, content_hash, entity_slug, details)
         LEFT JOIN entity_type t ON t.slug = i.entity_slug
       ON CONFLICT (harvest_source_id, remote_id) DO UPDATE
         SET content_hash = EXCLUDED.content_hash, last_run_id = EXCLUDED.last_run_id, entity_type_id = EXCLUDED.entity_type_id,
             details = EXCLUDED.details, updated_at = now()`,
      [
        sourceId,
        runId,
        items.map((item) => item.remoteId),
        items.map((item) => item.contentHash),
        items.map((item) => item.entityTypeSlug ?? null),
        items.map((item) => (item.details ? JSON.stringify(item.details) : null)),
      ],
    );
  }

  async forgetItems(sourceId: number, remoteIds: string[]): Promise<void> {
    if (remoteIds.length === 0) return;
    await this.dataSource.query(`DELETE FROM harvested_item WHERE harvest_source_id = $1 AND remote_id = ANY($2::text[])`, [sourceId, remoteIds]);
  }

  /** Runs being carried out now, everywhere (for the admin endpoint). */
  async activeRuns(): Promise<Array<Record<string, unknown>>> {
    return this.dataSource.query(
      `SELECT r.id, s.slug AS source, r.worker, r.started_at, r.heartbeat_at, r.counts, r.progress
         FROM harvest_run r JOIN harvest_source s ON s.id = r.harvest_source_id WHERE r.status = 'running' ORDER BY r.started_at`,
    );
  }

  private async failQueued(manager: EntityManager, runId: string, error: string): Promise<void> {
    await manager.query(`UPDATE harvest_run SET status = 'failed', finished_at = now(), error = $2 WHERE id = $1 AND status = 'queued'`, [runId, error]);
  }
}

/** Rows of an UPDATE … RETURNING (TypeORM answers `[rows, affected]` for UPDATE and DELETE on PostgreSQL). */
function returned<T>(result: T[] | [T[], number]): T[] {
  return result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number' ? (result[0] as T[]) : (result as T[]);
}
