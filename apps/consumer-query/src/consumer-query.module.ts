import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '@odb/auth';
import { ServiceCoreModule, announceController } from '@odb/platform';
import { CatalogDatabase } from './catalog/catalog-database';
import { CatalogReader } from './catalog/catalog-reader';
import { ConsumerController } from './catalog/consumer.controller';
import { ConsumerContextResolver } from './catalog/consumer-query.service';
import { EntityTypeDirectory } from './catalog/entity-types';
import { ConsumerQueryConfig } from './config';
import { BucketCompactor } from './indexes/bucket-compactor';
import { TypeIndexManager } from './indexes/type-index-manager';
import { DcatModule } from './dcat/dcat.module';
import { PolicyLimiter } from './limits/policy-limiter';
import { PolicyResolver } from './policies/policy-resolver';
import { WebhookClient } from './webhooks/webhook-client';

@Module({})
export class ConsumerQueryModule {
  static forRoot(config: ConsumerQueryConfig): DynamicModule {
    return {
      module: ConsumerQueryModule,
      imports: [
        ServiceCoreModule.forRoot({ serviceName: 'consumer-query', config, redis: true }),
        AuthModule.forRoot({ mode: config.AUTH_MODE }),
        DcatModule,
      ],
      controllers: [announceController('consumer'), ConsumerController],
      providers: [
        PolicyResolver,
        PolicyLimiter,
        ConsumerContextResolver,
        CatalogDatabase,
        EntityTypeDirectory,
        CatalogReader,
        WebhookClient,
        TypeIndexManager,
        BucketCompactor,
      ],
    };
  }
}
