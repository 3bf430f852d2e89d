import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SERVICE_CONFIG } from '@odb/platform';
import { CatalogPublisherConfig } from '../config';
import { PublicationStore } from './publication-store';
import { PushQueue } from './push-queue';

/**
 * No pending push is lost: the database says what is pending, jobs only
 * carry it out. At start-up every pending publication gets a job (those of
 * a crashed replica included: they wait for its lease to expire); then a
 * periodic sweep re-enqueues publications that stayed pending with no job
 * seeming to carry them (Redis lost a job, a push crashed).
 */
@Injectable()
export class PublicationReconciler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('PublicationReconciler');
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;

  constructor(
    private readonly store: PublicationStore,
    private readonly queue: PushQueue,
    @Inject(SERVICE_CONFIG) private readonly config: CatalogPublisherConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const pending = await this.store.pending();
    await this.queue.enqueue(pending, 0);
    if (pending.length > 0) this.logger.log(`${pending.length} publication(s) pending at start-up: enqueued`);
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep().finally(() => (this.sweeping = undefined));
    }, this.config.PUBLISH_SWEEP_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  private async sweep(): Promise<void> {
    try {
      const stranded = await this.store.stranded(this.config.PUBLISH_SWEEP_MS);
      await this.queue.enqueue(stranded, 0);
      if (stranded.length > 0) this.logger.warn(`${stranded.length} publication(s) pending with no job: enqueued again`);
    } catch (error) {
      this.logger.warn(`publication sweep failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
