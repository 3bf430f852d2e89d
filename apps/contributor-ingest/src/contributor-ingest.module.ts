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

/**
 * Room in the GIN pending list for what streams between two background merges
 * (SessionStore merges every 20,000 streamed records; the default 4 MB fills
 * every ~8,000 and then the writer merges inside its own statement). A
 * session setting, not the index's storage parameter, so that a big commit can
 * still raise it for its own transaction.
 */
const INGEST_DATABASE_SETTINGS = { gin_pending_list_limit: '32MB' };

@Module({})
export class ContributorIngestModule {
  static forRoot(config: ContributorIngestConfig): DynamicModule {
    return {
      module: ContributorIngestModule,
      imports: [
        ServiceCoreModule.forRoot({ serviceName: 'contributor-ingest', config, databaseSettings: INGEST_DATABASE_SETTINGS }),
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
