import { DynamicModule, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MAX_RPC_BATCH } from '@odb/contracts';
import { AuthModule } from '@odb/auth';
import { EventOutbox } from '@odb/messaging';
import { ServiceCoreModule, announceController } from '@odb/platform';
import { MAX_RECORDS_PER_BATCH } from '@odb/validation';
import { ContributorIngestConfig } from './config';
import { RecordBatchValidator } from './records/record-batch-validator';
import { ContributionService } from './sessions/contribution.service';
import { IngestRpcResponder } from './sessions/ingest-rpc.responder';
import { SessionStore } from './sessions/session-store';
import { SessionsController } from './sessions/sessions.controller';

@Module({})
export class ContributorIngestModule {
  static forRoot(config: ContributorIngestConfig): DynamicModule {
    return {
      module: ContributorIngestModule,
      imports: [
        ServiceCoreModule.forRoot({ serviceName: 'contributor-ingest', config }),
        AuthModule.forRoot({ mode: config.AUTH_MODE }),
      ],
      controllers: [announceController('contributor'), SessionsController],
      providers: [
        {
          provide: SessionStore,
          inject: [DataSource, EventOutbox],
          useFactory: (dataSource: DataSource, outbox: EventOutbox) => new SessionStore(dataSource, outbox),
        },
        {
          provide: ContributionService,
          inject: [SessionStore],
          useFactory: (store: SessionStore) => new ContributionService(store, new RecordBatchValidator(MAX_RECORDS_PER_BATCH)),
        },
        // Same semantics over NATS for the harvester, with larger batches than HTTP's 250.
        {
          provide: IngestRpcResponder,
          inject: [SessionStore],
          useFactory: (store: SessionStore) => new IngestRpcResponder(new ContributionService(store, new RecordBatchValidator(MAX_RPC_BATCH))),
        },
      ],
    };
  }
}
