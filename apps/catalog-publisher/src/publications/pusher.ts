import { Inject, Injectable, Logger } from '@nestjs/common';
import { Counter, Histogram, register } from 'prom-client';
import { CatalogError, CatalogHttpError, buildPublishedDataset } from '@odb/catalog-connectors';
import { SERVICE_CONFIG } from '@odb/platform';
import { CatalogPublisherConfig } from '../config';
import { BulkReads } from './bulk-reads';
import { PublicationRow, PublicationStore } from './publication-store';
import { PushQueue } from './push-queue';
import { PushTargets, RemoteCatalogTarget } from './push-targets';
import { RunLog } from './run-log';

export interface Attempt {
  /** 1-based. */
  number: number;
  of: number;
}

/** How a run ended, for the job's result (and the tests). */
export type PushResult = 'published' | 'deleted';

/** A failed attempt, with what the queue needs to schedule the next one. */
export class PushFailure extends Error {
  constructor(
    message: string,
    /** No further attempt: the error is not transient, or attempts are used up. */
    readonly final: boolean,
    /** Delay before the next attempt (when not final). */
    readonly retryDelayMs: number,
  ) {
    super(message);
    this.name = 'PushFailure';
  }
}

const pushes = metric('odb_publication_pushes_total', () =>
  new Counter({ name: 'odb_publication_pushes_total', help: 'Publication runs, by kind (publish, delete) and outcome (ok, retry, error)', labelNames: ['kind', 'outcome'] }),
);
const durations = metric('odb_publication_push_seconds', () =>
  new Histogram({
    name: 'odb_publication_push_seconds',
    help: 'Duration of publication runs (remote calls included)',
    labelNames: ['kind'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  }),
);

/**
 * One run of a claimed publication: builds the remote dataset from the
 * entity type as it is now and pushes it (or deletes the remote dataset),
 * then records the outcome, the log of the run and, on failure, when the
 * next attempt may happen. The lease is renewed while the run lasts.
 */
@Injectable()
export class Pusher {
  private readonly logger = new Logger('Pusher');

  constructor(
    private readonly store: PublicationStore,
    private readonly targets: PushTargets,
    private readonly queue: PushQueue,
    private readonly bulkReads: BulkReads,
    @Inject(SERVICE_CONFIG) private readonly config: CatalogPublisherConfig,
  ) {}

  async run(publication: PublicationRow, attempt: Attempt): Promise<PushResult> {
    const version = publication.requested_version;
    const leaseMs = this.config.PUBLISH_LEASE_MS;
    const heartbeat = setInterval(() => {
      this.store.extendLease(publication.id, leaseMs).catch((error: unknown) => this.logger.warn(`lease of publication ${publication.id} not extended: ${String(error)}`));
    }, Math.max(100, Math.floor(leaseMs / 3)));
    heartbeat.unref();
    let log = new RunLog();
    let kind: 'publish' | 'delete' = publication.status === 'deleting' ? 'delete' : 'publish';
    const stop = durations.startTimer();
    try {
      const catalog = await this.targets.catalog(publication);
      log = new RunLog(catalog.secrets);
      const entityType = kind === 'publish' ? await this.targets.entityType(publication.entity_type_slug) : undefined;
      if (kind === 'publish' && !entityType) {
        kind = 'delete';
        log.info(`entity type ${publication.entity_type_slug} no longer exists: its remote dataset goes too`);
        publication = { ...publication, status: 'deleting' };
        await this.store.markDeletingById(publication.id);
      }
      if (kind === 'delete') {
        await this.delete(publication, catalog, log, attempt);
        pushes.inc({ kind, outcome: 'ok' });
        return 'deleted';
      }
      log.info(
        `pushing ${publication.entity_type_slug} (change #${version}) to ${catalog.type} catalog ${catalog.slug}` +
          `${publication.organization ? ` as organization ${publication.organization}` : ''}, ${publication.visibility}` +
          (attempt.number > 1 ? ` (attempt ${attempt.number} of ${attempt.of})` : ''),
      );
      const dataset = buildPublishedDataset(entityType!, { visibility: publication.visibility, consumerApiUrl: this.config.PUBLIC_CONSUMER_URL });
      const snapshot = await this.bulkReads.snapshotFor(catalog, publication);
      if (snapshot) log.info(`merging onto the remote dataset as read in bulk ${Date.now() - snapshot.readAt} ms ago`);
      const result = await catalog.adapter.publishDataset(dataset, {
        remoteId: publication.remote_id ?? undefined,
        resourceIds: publication.resource_ids ?? {},
        snapshot,
      });
      log.info(
        publication.remote_id === result.remoteId
          ? `updated remote dataset ${result.remoteId} (${result.remoteUrl})`
          : `created remote dataset ${result.remoteId} (${result.remoteUrl})`,
      );
      const status = await this.store.succeeded(publication, version, result, log.entries);
      pushes.inc({ kind, outcome: 'ok' });
      // A change came in during the push (or a deletion was asked for): another run follows.
      if (status === 'waiting' || status === 'deleting') await this.queue.enqueue([publication.id], 0);
      return 'published';
    } catch (error) {
      throw await this.failed(publication, version, kind, error, log, attempt);
    } finally {
      clearInterval(heartbeat);
      stop({ kind });
    }
  }

  private async delete(publication: PublicationRow, catalog: RemoteCatalogTarget, log: RunLog, attempt: Attempt): Promise<void> {
    if (publication.remote_id) {
      log.info(
        `deleting remote dataset ${publication.remote_id} from ${catalog.type} catalog ${catalog.slug}` +
          (attempt.number > 1 ? ` (attempt ${attempt.number} of ${attempt.of})` : ''),
      );
      await catalog.adapter.deleteDataset(publication.remote_id);
    }
    await this.store.removed(publication);
  }

  private async failed(publication: PublicationRow, version: number, kind: string, error: unknown, log: RunLog, attempt: Attempt): Promise<PushFailure> {
    const message = log.redact(describe(error));
    const transient = !(error instanceof CatalogError) || error.retryable;
    const final = !transient || attempt.number >= attempt.of;
    const delay = final ? 0 : this.backoff(attempt.number, error);
    if (final) log.error(`${message}${transient ? ` (gave up after ${attempt.of} attempt(s))` : ''}`);
    else log.warn(`${message}; attempt ${attempt.number + 1} of ${attempt.of} in ${(delay / 1000).toFixed(1)} s`);
    // A deletion is never given up on: it is retried by the sweep, slowly.
    const retryAt = !final ? new Date(Date.now() + delay) : kind === 'delete' ? new Date(Date.now() + this.config.PUBLISH_MAX_BACKOFF_MS) : null;
    try {
      const status = await this.store.failed(publication, version, message, log.entries, { retryAt, final });
      if (final && status === 'waiting') await this.queue.enqueue([publication.id], 0);
    } catch (recording) {
      this.logger.error(`publication ${publication.id}: could not record the failure: ${String(recording)}`);
    }
    pushes.inc({ kind, outcome: final ? 'error' : 'retry' });
    if (final) this.logger.warn(`publication ${publication.id} (${publication.entity_type_slug} → ${publication.catalog_slug}) failed: ${message}`);
    return new PushFailure(message, final, delay);
  }

  /** Exponential with equal jitter, at least what Retry-After asked, at most PUBLISH_MAX_BACKOFF_MS. */
  private backoff(attempt: number, error: unknown): number {
    const exponential = Math.min(this.config.PUBLISH_MAX_BACKOFF_MS, this.config.PUBLISH_BACKOFF_MS * 2 ** (attempt - 1));
    const jittered = Math.round(exponential / 2 + Math.random() * (exponential / 2));
    const retryAfter = error instanceof CatalogHttpError ? (error.retryAfterMs ?? 0) : 0;
    return Math.min(this.config.PUBLISH_MAX_BACKOFF_MS, Math.max(jittered, retryAfter));
  }
}

/** What went wrong, in one line fit for the API (adapter errors are already redacted). */
function describe(error: unknown): string {
  if (error instanceof CatalogError) return error.message;
  if (error instanceof Error) return `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`;
  return String(error);
}

function metric<T>(name: string, create: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? create();
}
