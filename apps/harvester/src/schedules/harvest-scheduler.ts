import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Queue } from 'bullmq';
import { DomainEvent, EventSubjects, HarvestJobData, JobNames, QueueNames, harvestCronPattern } from '@odb/contracts';
import { OnDomainEvent } from '@odb/messaging';
import { RunStore } from '../runs/run-store';

const KEEP_JOBS = { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } };

/**
 * One BullMQ job scheduler per scheduled harvest source (id = the source's
 * slug), kept equal to the database: each harvest-source event re-reads the
 * source and upserts or removes its scheduler (so late or repeated events
 * converge), and start-up reconciles them all. Requested runs become jobs
 * keyed by run id (a redelivered event adds nothing).
 */
@Injectable()
export class HarvestScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger('HarvestScheduler');

  constructor(
    @InjectQueue(QueueNames.HarvestRuns) private readonly queue: Queue<HarvestJobData>,
    private readonly store: RunStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.reconcile();
  }

  /** Schedulers for every scheduled source, none for the others. */
  async reconcile(): Promise<void> {
    const sources = await this.store.schedules();
    const wanted = new Set<string>();
    for (const source of sources) {
      const pattern = harvestCronPattern(source.schedule);
      if (!pattern) continue;
      wanted.add(source.slug);
      await this.upsert(source.slug, pattern, source.timezone);
    }
    for (const scheduler of await this.queue.getJobSchedulers(0, -1)) {
      if (!wanted.has(scheduler.key)) await this.queue.removeJobScheduler(scheduler.key);
    }
    this.logger.log(`${wanted.size} harvest schedule(s) in place`);
  }

  async sync(slug: string): Promise<void> {
    const source = await this.store.source(slug);
    const pattern = source ? harvestCronPattern(source.schedule) : null;
    if (source && pattern) await this.upsert(slug, pattern, source.timezone);
    else await this.queue.removeJobScheduler(slug);
  }

  @OnDomainEvent(EventSubjects.HarvestSourceCreated)
  async onSourceCreated(event: DomainEvent<'harvest-source.created'>): Promise<void> {
    await this.sync(event.payload.harvestSourceId);
  }

  @OnDomainEvent(EventSubjects.HarvestSourceUpdated)
  async onSourceUpdated(event: DomainEvent<'harvest-source.updated'>): Promise<void> {
    await this.sync(event.payload.harvestSourceId);
  }

  @OnDomainEvent(EventSubjects.HarvestSourceDeleted)
  async onSourceDeleted(event: DomainEvent<'harvest-source.deleted'>): Promise<void> {
    await this.sync(event.payload.harvestSourceId);
  }

  @OnDomainEvent(EventSubjects.HarvestRunRequested)
  async onRunRequested(event: DomainEvent<'harvest.run.requested'>): Promise<void> {
    const { harvestSourceId, runId } = event.payload;
    await this.queue.add(JobNames.RunHarvest, { harvestSourceId, runId }, { jobId: runId, ...KEEP_JOBS });
  }

  private async upsert(slug: string, pattern: string, tz: string): Promise<void> {
    await this.queue.upsertJobScheduler(slug, { pattern, tz }, { name: JobNames.RunHarvest, data: { harvestSourceId: slug }, opts: KEEP_JOBS });
  }
}
