import type { CatalogAdapter, HarvestFilters, SafeHttpClient } from '@odb/catalog-connectors';
import type { HarvesterConfig } from '../config';
import type { RpcCaller } from './ingest-session';
import type { ClaimedRun, KnownItem, RunStore } from './run-store';
import type { RunTracker } from './run-tracker';

/** Everything one run works with. */
export interface HarvestContext {
  run: ClaimedRun;
  adapter: CatalogAdapter;
  filters: HarvestFilters;
  /** What the source brought in before: remote id → content hash. */
  known: Map<string, KnownItem>;
  tracker: RunTracker;
  store: RunStore;
  rpc: RpcCaller;
  /** Guarded client without the catalog's credentials, for data files (data mode). */
  http: SafeHttpClient;
  config: HarvesterConfig;
  /** Bytes one NATS message may carry (record batches are cut to fit). */
  maxPayloadBytes: number;
}

/** What the listing part of a run found out. */
export interface ListingOutcome {
  /** Identities listed (or protected: skipped items that were harvested before). */
  seen: Set<string>;
  /** Why the listing cannot be trusted for deletions, if it cannot. */
  incomplete?: string;
  /** The error that stopped the listing, if one did. */
  error?: string;
}

/**
 * Whether deletions may be computed from this run (magda's trim, done right):
 * the listing saw everything (no page missing or repeated, no limit hit, no
 * error) and no item failed. Returns the reason when not.
 */
function deletionBlocker(listing: ListingOutcome, tracker: RunTracker): string | undefined {
  if (listing.error) return `the listing failed: ${listing.error}`;
  if (listing.incomplete) return `the listing was incomplete: ${listing.incomplete}`;
  if (tracker.counts.failed > 0) return `${tracker.counts.failed} item(s) failed`;
  if (tracker.signal.aborted) return 'the run was interrupted';
  return undefined;
}

/**
 * What the source brought in before and this run's listing no longer has
 * (`what` names them in the run's progress), or nothing when deletions may not
 * be computed from this run; records on the run whether its listing was complete.
 */
export function goneFromRemote(context: HarvestContext, listing: ListingOutcome, what: string): string[] {
  const { tracker, known } = context;
  const blocker = deletionBlocker(listing, tracker);
  tracker.listingComplete = !listing.incomplete && !listing.error;
  if (blocker) {
    tracker.progress.deletions = `not computed: ${blocker}`;
    return [];
  }
  const gone = [...known.keys()].filter((key) => !listing.seen.has(key));
  tracker.progress.deletions = `${gone.length} ${what}(s) gone from the remote`;
  return gone;
}
