import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DelayedError, Job, Worker } from 'bullmq';
import { HarvestJobData, JobNames, QueueNames } from '@odb/contracts';
import { SERVICE_CONFIG, redisOptionsFromUrl } from '@odb/platform';
import { HarvesterConfig } from '../config';
import { HarvestRunner, RunResult } from './harvest-runner';

/**
 * The BullMQ worker of harvest runs. A job whose source is busy with another
 * run waits (requested runs are delayed and tried again; a scheduled firing
 * is skipped, the next one will come). A failed run fails its job: errors are
 * never swallowed. On shutdown, runs in progress are aborted and end as
 * failed ("interrupted"), so the next run starts cleanly.
 */
@Injectable()
export class HarvestWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('HarvestWorker');
  private readonly shutdown = new AbortController();
  private worker?: Worker<HarvestJobData, RunResult>;
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly runner: HarvestRunner,
    @Inject(SERVICE_CONFIG) private readonly config: HarvesterConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.worker = new Worker<HarvestJobData, RunResult>(QueueNames.HarvestRuns, (job, token) => this.process(job, token), {
      connection: redisOptionsFromUrl(this.config.REDIS_URL),
      prefix: `${this.config.REDIS_PREFIX}:bull`,
      concurrency: this.config.HARVEST_CONCURRENCY,
    });
    this.worker.on('failed', (job, error) => this.logger.warn(`job ${job?.id} (${job?.data.harvestSourceId}) failed: ${error.message}`));
    this.worker.on('error', (error) => this.logger.error(`worker error: ${error.message}`));
    // Runs of a crashed replica are marked failed even if nobody asks for a new run of their source.
    this.sweeper = setInterval(
      () => void this.runner.failStaleRuns().catch((error: Error) => this.logger.warn(`stale run sweep failed: ${error.message}`)),
      Math.max(1000, Math.floor(this.config.HARVEST_STALE_AFTER_MS / 2)),
    );
    this.sweeper.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.sweeper);
    this.shutdown.abort(new Error('interrupted: the harvester is shutting down'));
    await this.worker?.close();
  }

  private async process(job: Job<HarvestJobData, RunResult>, token?: string): Promise<RunResult> {
    if (job.name !== JobNames.RunHarvest) throw new Error(`unknown job ${job.name}`);
    const result = await this.runner.execute(job.data, this.shutdown.signal);
    if ('busy' in result && job.data.runId) {
      await job.moveToDelayed(Date.now() + this.config.HARVEST_BUSY_RETRY_MS, token);
      throw new DelayedError();
    }
    if ('busy' in result) this.logger.log(`scheduled run of ${job.data.harvestSourceId} skipped: another run is in progress`);
    if ('gone' in result) this.logger.log(`job ${job.id}: nothing to do (${result.gone})`);
    return result;
  }
}
