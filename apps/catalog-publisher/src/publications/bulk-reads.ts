import { Inject, Injectable, Logger } from '@nestjs/common';
import { RemoteDatasetSnapshot } from '@odb/catalog-connectors';
import { SERVICE_CONFIG } from '@odb/platform';
import { CatalogPublisherConfig } from '../config';
import { PublicationRow, PublicationStore } from './publication-store';
import { RemoteCatalogTarget } from './push-targets';

/**
 * How long a dataset read in bulk may stand in for a fresh read. A remote
 * edit made in that window is overwritten by the update (one read per
 * update narrows the window to milliseconds, at twice the requests).
 */
export const BULK_READ_TTL_MS = 15_000;

/** How often the number of pending updates is looked at, when it was under the threshold. */
const CHECK_INTERVAL_MS = 1000;

interface CatalogSnapshots {
  entries: Map<string, RemoteDatasetSnapshot>;
  /** Last bulk read. */
  readAt: number;
  /** Last look at the pending updates. */
  checkedAt: number;
  reading?: Promise<void>;
}

/**
 * Read-merge-write costs two requests per update. When many updates to one
 * remote catalog are pending (a bulk change), the remote datasets are read
 * in a few listing requests instead, and each update merges onto its
 * snapshot: under a remote rate limit, about twice the throughput. Below
 * the threshold every update reads its dataset itself.
 */
@Injectable()
export class BulkReads {
  private readonly logger = new Logger('BulkReads');
  private readonly catalogs = new Map<string, CatalogSnapshots>();

  constructor(
    private readonly store: PublicationStore,
    @Inject(SERVICE_CONFIG) private readonly config: CatalogPublisherConfig,
  ) {}

  /** A fresh snapshot of the publication's remote dataset, when a bulk read has (or can get) one. */
  async snapshotFor(catalog: RemoteCatalogTarget, publication: PublicationRow): Promise<RemoteDatasetSnapshot | undefined> {
    const remoteId = publication.remote_id;
    if (!remoteId || !this.config.PUBLISH_BULK_READ_THRESHOLD || !catalog.adapter.readForUpdate) return undefined;
    const key = `${catalog.id}\u0000${catalog.organization}`;
    let snapshots = this.catalogs.get(key);
    if (!snapshots) this.catalogs.set(key, (snapshots = { entries: new Map(), readAt: 0, checkedAt: 0 }));
    if (!this.fresh(snapshots.entries.get(remoteId))) {
      const now = Date.now();
      if (!snapshots.reading && now - snapshots.readAt > BULK_READ_TTL_MS && now - snapshots.checkedAt > CHECK_INTERVAL_MS) {
        snapshots.checkedAt = now;
        const current = snapshots;
        current.reading = this.read(catalog, current).finally(() => (current.reading = undefined));
      }
      await snapshots.reading?.catch(() => undefined);
    }
    const snapshot = snapshots.entries.get(remoteId);
    snapshots.entries.delete(remoteId);
    // Read before our own last push of it: it would undo that push's remote changes (new resource ids).
    const lastPush = publication.last_success_at ? new Date(publication.last_success_at).getTime() : 0;
    return snapshot && this.fresh(snapshot) && snapshot.readAt > lastPush ? snapshot : undefined;
  }

  private async read(catalog: RemoteCatalogTarget, snapshots: CatalogSnapshots): Promise<void> {
    const pending = await this.store.pendingUpdates(catalog.id, catalog.organization);
    if (pending < this.config.PUBLISH_BULK_READ_THRESHOLD) return;
    snapshots.readAt = Date.now();
    const remoteIds = await this.store.remoteIdsOf(catalog.id, catalog.organization);
    try {
      // Every dataset published there, not only those pending now: a bulk change is still arriving.
      // At most half as many requests as reading the pending ones one by one.
      const found = await catalog.adapter.readForUpdate!(remoteIds, Math.floor(pending / 2));
      for (const [id, snapshot] of found) snapshots.entries.set(id, snapshot);
      for (const [id, snapshot] of snapshots.entries) if (!this.fresh(snapshot)) snapshots.entries.delete(id);
      this.logger.log(`${catalog.slug}: ${found.size} of ${remoteIds.length} published dataset(s) read in bulk (${pending} update(s) pending)`);
    } catch (error) {
      // Each update reads its own dataset then: slower, not wrong.
      this.logger.warn(`${catalog.slug}: bulk read failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private fresh(snapshot: RemoteDatasetSnapshot | undefined): snapshot is RemoteDatasetSnapshot {
    return !!snapshot && Date.now() - snapshot.readAt < BULK_READ_TTL_MS;
  }
}
