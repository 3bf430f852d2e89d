import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';
import { QueueNames } from '@odb/contracts';
import { ServiceCoreModule } from '@odb/platform';
import { CatalogPublisherConfig } from './config';

@Module({})
export class CatalogPublisherModule {
  static forRoot(config: CatalogPublisherConfig): DynamicModule {
    return {
      module: CatalogPublisherModule,
      imports: [
        ServiceCoreModule.forRoot({ serviceName: 'catalog-publisher', config, redis: true }),
        BullModule.forRoot({ connection: { url: config.REDIS_URL }, prefix: `${config.REDIS_PREFIX}:bull` }),
        BullModule.registerQueue({ name: QueueNames.PublicationPushes }),
      ],
    };
  }
}
