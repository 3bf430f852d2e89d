import { HARVEST_OUTCOMES } from '@odb/contracts';
import { RunItem, RunReport, RunStore } from './run-store';

/**
 * Counts, progress and per-item outcomes of one run, written to harvest_run
 * as it goes (with the heartbeat), so GET …/run/:id shows progress while
 * running. Every outcome but `unchanged` is kept as an item: nothing is
 * sampled or cut. When the run turns out to be no longer ours (marked
 * interrupted by another replica, or its source deleted), `signal` aborts.
 */
export class RunTracker {
  readonly counts: Record<string, number> = Object.fromEntries(HARVEST_OUTCOMES.map((outcome) => [outcome, 0]));
  readonly progress: Record<string, unknown> = { phase: 'listing', pages: 0, listed: 0 };
  listingComplete = false;
  private pending: RunItem[] = [];
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private readonly controller = new AbortController();
  private readonly startedAt = Date.now();

  constructor(
    private readonly store: RunStore,
    private readonly runId: string,
    private readonly heartbeatMs: number,
    parentSignal?: AbortSignal,
  ) {
    parentSignal?.addEventListener('abort', () => this.controller.abort(parentSignal.reason), { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  start(): void {
    this.timer = setInterval(() => void this.flush().catch(() => undefined), this.heartbeatMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Records an outcome; every outcome but `unchanged` is kept as an item of the report. */
  item(item: RunItem): void {
    this.counts[item.outcome] = (this.counts[item.outcome] ?? 0) + 1;
    if (item.outcome !== 'unchanged') this.pending.push(item);
  }

  unchanged(count = 1): void {
    this.counts.unchanged += count;
  }

  /** Errors seen so far (failed items, and items the listing could not read). */
  get errors(): number {
    return this.counts.failed + this.counts.skipped;
  }

  report(): RunReport {
    return { counts: { ...this.counts }, progress: { ...this.progress, elapsed_ms: Date.now() - this.startedAt }, listingComplete: this.listingComplete };
  }

  /** Writes pending items and the heartbeat with the current progress (one at a time). */
  flush(): Promise<void> {
    const next = this.writing.then(async () => {
      const items = this.pending;
      this.pending = [];
      await this.store.addItems(this.runId, items);
      const ours = await this.store.heartbeat(this.runId, this.report());
      if (!ours && !this.controller.signal.aborted) {
        this.controller.abort(new Error('the run is no longer running (marked interrupted, or its source was deleted)'));
      }
    });
    this.writing = next.catch(() => undefined);
    return next;
  }
}
