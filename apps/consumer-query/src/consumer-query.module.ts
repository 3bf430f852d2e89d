import { DynamicModule, Module } from '@nestjs/common';
import { ServiceCoreModule, announceController } from '@odb/platform';
import { ConsumerQueryConfig } from './config';

@Module({})
export class ConsumerQueryModule {
  static forRoot(config: ConsumerQueryConfig): DynamicModule {
    return {
      module: ConsumerQueryModule,
      imports: [ServiceCoreModule.forRoot({ serviceName: 'consumer-query', config, redis: true })],
      controllers: [announceController('consumer')],
    };
  }
}
