import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DelayedError, Job, UnrecoverableError, Worker } from 'bullmq';
import { QueueNames } from '@odb/contracts';
import { SERVICE_CONFIG, redisOptionsFromUrl } from '@odb/platform';
import { CatalogPublisherConfig } from '../config';
import { PublicationStore } from './publication-store';
import { PUSH_BACKOFF_TYPE, PushJob } from './push-queue';
import { PushFailure, PushResult, Pusher } from './pusher';
import { PushTargets } from './push-targets';

/** How often a job that found its publication held by another push looks again. */
const BUSY_POLL_MS = 250;

/**
 * The BullMQ worker of push jobs. A job claims its publication (lease in the
 * database) and runs one push; a job that finds it held waits (delayed, not
 * counted as an attempt); a job that finds nothing to do completes. Failed
 * attempts are retried by BullMQ after the delay the pusher computed
 * (Retry-After honoured); the last one leaves the publication in `error`.
 */
@Injectable()
export class PushWorker implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('PushWorker');
  private worker?: Worker<PushJob, PushResult | 'nothing to do'>;

  constructor(
    private readonly store: PublicationStore,
    private readonly pusher: Pusher,
    private readonly targets: PushTargets,
    @Inject(SERVICE_CONFIG) private readonly config: CatalogPublisherConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.worker = new Worker<PushJob, PushResult | 'nothing to do'>(QueueNames.PublicationPushes, (job, token) => this.process(job, token), {
      connection: redisOptionsFromUrl(this.config.REDIS_URL),
      prefix: `${this.config.REDIS_PREFIX}:bull`,
      concurrency: this.config.PUBLISH_CONCURRENCY,
      settings: {
        backoffStrategy: (_attemptsMade: number, type?: string, error?: Error) =>
          type === PUSH_BACKOFF_TYPE && error instanceof PushFailure ? error.retryDelayMs : this.config.PUBLISH_BACKOFF_MS,
      },
    });
    this.worker.on('error', (error) => this.logger.warn(`push worker: ${error.message}`));
  }

  /** Lets the pushes in progress finish (SIGTERM), while the database is still there; what is left waiting is in it for the next start. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.worker?.close();
  }

  onApplicationShutdown(): void {
    this.targets.close();
  }

  private async process(job: Job<PushJob>, token?: string): Promise<PushResult | 'nothing to do'> {
    const claim = await this.store.claim(job.data.publicationId, this.config.PUBLISH_LEASE_MS);
    if (claim.kind === 'gone' || claim.kind === 'idle') return 'nothing to do';
    if (claim.kind === 'busy') {
      await job.moveToDelayed(Math.min(claim.until.getTime(), Date.now() + BUSY_POLL_MS) + 5, token);
      throw new DelayedError();
    }
    try {
      return await this.pusher.run(claim.publication, { number: job.attemptsMade + 1, of: job.opts.attempts ?? 1 });
    } catch (error) {
      if (error instanceof PushFailure && error.final) throw new UnrecoverableError(error.message);
      throw error;
    }
  }
}
