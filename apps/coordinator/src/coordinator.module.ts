import { DynamicModule, Module } from '@nestjs/common';
import { ServiceCoreModule, announceController } from '@odb/platform';
import { CoordinatorConfig } from './config';

@Module({})
export class CoordinatorModule {
  static forRoot(config: CoordinatorConfig): DynamicModule {
    return {
      module: CoordinatorModule,
      imports: [ServiceCoreModule.forRoot({ serviceName: 'coordinator', config })],
      controllers: [announceController('coordinator')],
    };
  }
}
