import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { JobsOptions, Queue } from 'bullmq';
import { JobNames, QueueNames } from '@odb/contracts';
import { SERVICE_CONFIG } from '@odb/platform';
import { CatalogPublisherConfig } from '../config';

export interface PushJob {
  publicationId: number;
}

/** The BullMQ backoff type whose delays the push worker computes (exponential, or Retry-After when longer). */
export const PUSH_BACKOFF_TYPE = 'publication';

/**
 * Push jobs, one per publication and debounce window: the first change of a
 * window schedules a push `PUBLISH_DEBOUNCE_MS` later, further changes in the
 * window are folded into it (BullMQ deduplication keyed by the publication),
 * and the push reads the latest state when it runs. The publication row says
 * what is pending, so a lost or duplicate job costs nothing but a delay or a
 * no-op.
 */
@Injectable()
export class PushQueue {
  constructor(
    @InjectQueue(QueueNames.PublicationPushes) private readonly queue: Queue<PushJob>,
    @Inject(SERVICE_CONFIG) private readonly config: CatalogPublisherConfig,
  ) {}

  /** `delayMs` defaults to the debounce window. */
  async enqueue(publicationIds: number[], delayMs = this.config.PUBLISH_DEBOUNCE_MS): Promise<void> {
    if (publicationIds.length === 0) return;
    await this.queue.addBulk(
      publicationIds.map((publicationId) => ({ name: JobNames.PushPublication, data: { publicationId }, opts: this.options(publicationId, delayMs) })),
    );
  }

  private options(publicationId: number, delayMs: number): JobsOptions {
    return {
      // ttl = the window: a change after it schedules another push, which waits for this one to finish (lease).
      deduplication: { id: `publication:${publicationId}`, ttl: Math.max(delayMs, 1) },
      delay: delayMs,
      attempts: this.config.PUBLISH_ATTEMPTS,
      backoff: { type: PUSH_BACKOFF_TYPE },
      removeOnComplete: true,
      removeOnFail: { count: 1000 },
    };
  }
}
