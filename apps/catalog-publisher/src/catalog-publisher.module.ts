import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';
import { QueueNames } from '@odb/contracts';
import { ServiceCoreModule, redisOptionsFromUrl } from '@odb/platform';
import { CatalogPublisherConfig } from './config';
import { BulkReads } from './publications/bulk-reads';
import { PublicationChangeHandlers } from './publications/change-handlers';
import { PublicationStore } from './publications/publication-store';
import { PushQueue } from './publications/push-queue';
import { PushTargets } from './publications/push-targets';
import { PushWorker } from './publications/push-worker';
import { Pusher } from './publications/pusher';
import { PublicationReconciler } from './publications/reconciler';

@Module({})
export class CatalogPublisherModule {
  static forRoot(config: CatalogPublisherConfig): DynamicModule {
    return {
      module: CatalogPublisherModule,
      imports: [
        ServiceCoreModule.forRoot({ serviceName: 'catalog-publisher', config, redis: true }),
        BullModule.forRoot({ connection: redisOptionsFromUrl(config.REDIS_URL), prefix: `${config.REDIS_PREFIX}:bull` }),
        BullModule.registerQueue({ name: QueueNames.PublicationPushes }),
      ],
      providers: [PublicationStore, PushQueue, PushTargets, BulkReads, Pusher, PushWorker, PublicationChangeHandlers, PublicationReconciler],
    };
  }
}
