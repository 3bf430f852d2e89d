import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '@odb/auth';
import { ServiceCoreModule, announceController } from '@odb/platform';
import { CatalogReader } from './catalog/catalog-reader';
import { ConsumerController } from './catalog/consumer.controller';
import { ConsumerContextResolver } from './catalog/consumer-query.service';
import { ConsumerQueryConfig } from './config';
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
      ],
      controllers: [announceController('consumer'), ConsumerController],
      providers: [
        PolicyResolver,
        PolicyLimiter,
        ConsumerContextResolver,
        CatalogReader,
        WebhookClient,
      ],
    };
  }
}
