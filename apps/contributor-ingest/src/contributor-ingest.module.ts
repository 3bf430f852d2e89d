import { DynamicModule, Module } from '@nestjs/common';
import { ServiceCoreModule, announceController } from '@odb/platform';
import { ContributorIngestConfig } from './config';

@Module({})
export class ContributorIngestModule {
  static forRoot(config: ContributorIngestConfig): DynamicModule {
    return {
      module: ContributorIngestModule,
      imports: [ServiceCoreModule.forRoot({ serviceName: 'contributor-ingest', config })],
      controllers: [announceController('contributor')],
    };
  }
}
