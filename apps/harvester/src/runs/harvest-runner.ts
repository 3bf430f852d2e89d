import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'crypto';
import { hostname } from 'os';
import { NatsConnection } from 'nats';
import { SecretBox } from '@odb/auth';
import { HarvestFilters, SafeHttpClient, adapterForRemoteCatalog, parseHostList } from '@odb/catalog-connectors';
import { HarvestJobData } from '@odb/contracts';
import { NATS_CONNECTION, RpcClient } from '@odb/messaging';
import { SERVICE_CONFIG } from '@odb/platform';
import { HarvesterConfig } from '../config';
import { harvestData } from '../data/data-harvest';
import { HarvestContext } from './harvest-context';
import { harvestMetadata } from './metadata-harvest';
import { ClaimedRun, HarvestSourceRecord, RunStore } from './run-store';
import { RunTracker } from './run-tracker';

export type RunResult = { ran: string; status: string } | { busy: true } | { gone: string };

/** A run that ended as failed; thrown so that the queue records the job as failed too (never swallowed). */
export class HarvestRunFailed extends Error {
  constructor(
    readonly runId: string,
    message: string,
  ) {
    super(message);
    this.name = 'HarvestRunFailed';
  }
}

/** Carries out one harvest run: claim, list, write, delete (maybe), report. */
@Injectable()
export class HarvestRunner {
  readonly worker = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly logger = new Logger('HarvestRunner');
  private readonly secrets: SecretBox;
  private readonly http: SafeHttpClient;

  constructor(
    private readonly store: RunStore,
    private readonly rpc: RpcClient,
    @Inject(SERVICE_CONFIG) private readonly config: HarvesterConfig,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
  ) {
    this.secrets = new SecretBox(config.SECRETS_KEY);
    this.http = new SafeHttpClient(this.outboundPolicy());
  }

  async execute(job: HarvestJobData, signal?: AbortSignal): Promise<RunResult> {
    const claim = await this.store.claim(job.harvestSourceId, job.runId, this.worker, this.config.HARVEST_STALE_AFTER_MS);
    if (!('claimed' in claim)) return claim;
    const run = claim.claimed;
    const tracker = new RunTracker(this.store, run.id, this.config.HARVEST_HEARTBEAT_MS, signal);
    tracker.start();
    let failure: string | undefined;
    try {
      const context = await this.context(run, tracker);
      const listing = run.source.mode === 'data' ? await harvestData(context) : await harvestMetadata(context);
      failure = listing.error;
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    } finally {
      tracker.stop();
    }
    const status = failure ? 'failed' : tracker.errors > 0 ? 'done-with-errors' : 'done';
    tracker.progress.phase = 'finished';
    await tracker.flush().catch(() => undefined);
    await this.store.finish(run, status, tracker.report(), failure);
    this.logger.log(`run ${run.id} of ${run.source.slug}: ${status} ${JSON.stringify(tracker.counts)}${failure ? ` (${failure})` : ''}`);
    if (failure) throw new HarvestRunFailed(run.id, `harvest run ${run.id} of ${run.source.slug} failed: ${failure}`);
    return { ran: run.id, status };
  }

  /** Marks runs without a heartbeat as interrupted (also done at every claim). */
  failStaleRuns(): Promise<number> {
    return this.store.failStale(undefined, this.config.HARVEST_STALE_AFTER_MS);
  }

  private async context(run: ClaimedRun, tracker: RunTracker): Promise<HarvestContext> {
    const source = run.source;
    const adapter = adapterForRemoteCatalog(
      {
        type: source.catalog.type,
        url: source.catalog.url,
        organization: source.catalog.organization,
        apiKey: source.catalog.api_key_sealed ? this.secrets.open(source.catalog.api_key_sealed) : null,
      },
      this.outboundPolicy(),
      { pageSize: this.config.HARVEST_PAGE_SIZE, maxItems: source.max_items ?? undefined },
    );
    return {
      run,
      adapter,
      filters: filtersOf(source),
      known: await this.store.knownItems(source.id),
      tracker,
      store: this.store,
      rpc: this.rpc,
      http: this.http,
      config: this.config,
      maxPayloadBytes: Math.floor((this.nc.info?.max_payload ?? 1024 * 1024) * 0.8),
    };
  }

  private outboundPolicy() {
    return {
      allowedHosts: parseHostList(this.config.REMOTE_ALLOWED_HOSTS),
      allowPrivateNetworks: this.config.REMOTE_ALLOW_PRIVATE_NETWORKS,
      timeoutMs: this.config.REMOTE_TIMEOUT_MS,
    };
  }
}

function filtersOf(source: HarvestSourceRecord): HarvestFilters {
  const filters: HarvestFilters = {};
  if (source.filters.organization) filters.organization = source.filters.organization;
  if (source.filters.tags?.length) filters.tags = source.filters.tags;
  if (source.filters.query) filters.query = source.filters.query;
  if (source.filters.resource_formats?.length) filters.resourceFormats = source.filters.resource_formats;
  return filters;
}
