import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';
import { QueueNames } from '@odb/contracts';
import { ServiceCoreModule } from '@odb/platform';
import { HarvesterConfig } from './config';

@Module({})
export class HarvesterModule {
  static forRoot(config: HarvesterConfig): DynamicModule {
    return {
      module: HarvesterModule,
      imports: [
        ServiceCoreModule.forRoot({ serviceName: 'harvester', config, redis: true }),
        BullModule.forRoot({ connection: { url: config.REDIS_URL }, prefix: `${config.REDIS_PREFIX}:bull` }),
        BullModule.registerQueue({ name: QueueNames.HarvestRuns }),
      ],
    };
  }
}
