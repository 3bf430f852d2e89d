import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';
import { QueueNames } from '@odb/contracts';
import { ServiceCoreModule, redisOptionsFromUrl } from '@odb/platform';
import { HarvesterConfig } from './config';
import { HarvesterController } from './harvester.controller';
import { HarvestRunner } from './runs/harvest-runner';
import { HarvestWorker } from './runs/harvest-worker';
import { RunStore } from './runs/run-store';
import { HarvestScheduler } from './schedules/harvest-scheduler';

@Module({})
export class HarvesterModule {
  static forRoot(config: HarvesterConfig): DynamicModule {
    return {
      module: HarvesterModule,
      imports: [
        ServiceCoreModule.forRoot({ serviceName: 'harvester', config, redis: true }),
        BullModule.forRoot({ connection: redisOptionsFromUrl(config.REDIS_URL), prefix: `${config.REDIS_PREFIX}:bull` }),
        BullModule.registerQueue({ name: QueueNames.HarvestRuns }),
      ],
      controllers: [HarvesterController],
      providers: [RunStore, HarvestRunner, HarvestWorker, HarvestScheduler],
    };
  }
}
