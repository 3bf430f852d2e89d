import { toCatalogErrorReport } from '@odb/catalog-connectors';
import type { ContributedRecord } from '@odb/contracts';
import { contentHash, datasetRecord, vendorId } from './dataset-record';
import { HarvestContext, ListingOutcome, goneFromRemote } from './harvest-context';
import { IngestSession } from './ingest-session';

interface PendingWrite {
  remoteId: string;
  record: ContributedRecord;
  hash: string;
  outcome: 'added' | 'updated';
}

/**
 * Metadata mode: each remote dataset becomes one record of the target entity
 * type under the source's connector, in a stream session. A dataset whose
 * record would be the same as last time (content hash in harvested_item) is
 * not sent at all: an unchanged remote costs no write and no event.
 * Deletions follow the listing, and only a complete, error-free one.
 */
export async function harvestMetadata(context: HarvestContext): Promise<ListingOutcome> {
  const { run, tracker, known, store } = context;
  const contributionId = run.source.contribution_id;
  if (!contributionId) throw new Error(`harvest source ${run.source.slug} has no connector (its entity type was deleted?)`);
  const session = run.dryRun ? undefined : await IngestSession.open(context.rpc, contributionId, 'stream', context.config.HARVEST_RPC_TIMEOUT_MS);
  const listing: ListingOutcome = { seen: new Set() };
  let committed = false;
  try {
    try {
      for await (const page of context.adapter.listDatasets(context.filters, {}, { signal: tracker.signal })) {
        tracker.progress.pages = page.index;
        if (page.total !== undefined) tracker.progress.total = page.total;
        for (const skipped of page.skipped) {
          // A dataset that cannot be read now is not gone: protect what it was.
          if (known.has(skipped.reference)) listing.seen.add(skipped.reference);
          tracker.item({ remoteId: skipped.reference, outcome: 'skipped', message: skipped.reason });
        }
        if (page.incomplete) listing.incomplete = page.incomplete;
        const writes: PendingWrite[] = [];
        for (const dataset of page.datasets) {
          tracker.progress.listed = (tracker.progress.listed as number) + 1;
          if (listing.seen.has(dataset.remoteId)) {
            tracker.item({ remoteId: dataset.remoteId, title: dataset.title, outcome: 'skipped', message: 'duplicate remote id: listed twice, the first one was kept' });
            continue;
          }
          listing.seen.add(dataset.remoteId);
          const record = datasetRecord(dataset, run.source.catalog.slug);
          const hash = contentHash(record);
          const previous = known.get(dataset.remoteId);
          if (previous?.contentHash === hash) tracker.unchanged();
          else writes.push({ remoteId: dataset.remoteId, record, hash, outcome: previous ? 'updated' : 'added' });
        }
        await write(context, session, writes);
        await tracker.flush();
        tracker.signal.throwIfAborted();
      }
    } catch (error) {
      if (tracker.signal.aborted) throw tracker.signal.reason ?? error;
      // The listing stopped: what was written stays, nothing is deleted, the run fails.
      listing.error = toCatalogErrorReport(error).message;
    }
    if (!listing.error) await removeGone(context, session, listing);
    await session?.close(true);
    committed = true;
  } finally {
    if (session && !committed) await session.close(true).catch(() => undefined);
  }
  return listing;
}

async function write(context: HarvestContext, session: IngestSession | undefined, writes: PendingWrite[]): Promise<void> {
  const { tracker, store, run } = context;
  if (writes.length === 0) return;
  const rejected = session ? await session.upsert(writes.map((item) => item.record)) : [];
  const reasons = new Map(rejected.map((item) => [item.record.id, item.reason]));
  const saved = [];
  for (const item of writes) {
    const reason = reasons.get(item.record.id);
    if (reason) {
      tracker.item({ remoteId: item.remoteId, title: item.record.name, outcome: 'failed', message: `refused by the catalog: ${reason}` });
    } else {
      tracker.item({ remoteId: item.remoteId, title: item.record.name, outcome: item.outcome });
      saved.push({ remoteId: item.remoteId, contentHash: item.hash, details: { vendorId: item.record.id } });
    }
  }
  if (session) await store.saveItems(run.source.id, run.id, saved);
}

/** Datasets the source brought in before and the remote no longer lists: deleted (or kept), only after a trustworthy listing. */
async function removeGone(context: HarvestContext, session: IngestSession | undefined, listing: ListingOutcome): Promise<void> {
  const { tracker, known, run, store } = context;
  const gone = goneFromRemote(context, listing, 'dataset');
  if (gone.length === 0) return;
  if (run.source.on_removed === 'keep') {
    for (const remoteId of gone) tracker.item({ remoteId, outcome: 'kept', message: 'gone from the remote; kept (on_removed: keep)' });
    return;
  }
  tracker.progress.phase = 'deleting';
  if (session) {
    await session.delete(gone.map((remoteId) => known.get(remoteId)?.details?.vendorId ?? vendorId(remoteId)));
    await store.forgetItems(run.source.id, gone);
  }
  for (const remoteId of gone) tracker.item({ remoteId, outcome: 'deleted', message: 'gone from the remote' });
}
