import { DynamicModule, Inject, MiddlewareConsumer, Module, NestModule, Type } from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { MessagingModule } from '@odb/messaging';
import { dataSourceOptions } from '@odb/persistence';
import { RestServiceConfig, ServiceConfig, RedisSettings } from './config/service-config';
import { HealthController } from './health/health.controller';
import { CoreReadinessProbes } from './health/probes';
import { ReadinessRegistry } from './health/readiness';
import { ApiExceptionFilter } from './http/api-exception.filter';
import { jsonBodyMiddleware } from './http/json-body.middleware';
import { loggerParams } from './logging/logging';
import { HttpMetricsMiddleware, MetricsController, initMetrics } from './metrics/metrics';
import { RedisModule } from './redis/redis.module';
import { SERVICE_CONFIG } from './service-config.token';

export interface ServiceCoreOptions {
  /** e.g. `coordinator`: log field, metrics label, event source, NATS queue group. */
  serviceName: string;
  config: ServiceConfig & Partial<RedisSettings>;
  /** Connect a shared Redis client (with a readiness probe). */
  redis?: boolean;
  /** Run the outbox relay in this service (default true). */
  outboxRelay?: boolean;
  /** PostgreSQL settings of the service's connections. */
  databaseSettings?: Record<string, string>;
}

/** REST services parse JSON bodies up to their MAX_BODY_SIZE. */
function isRestConfig(config: ServiceConfig): config is RestServiceConfig {
  return typeof (config as RestServiceConfig).MAX_BODY_SIZE === 'string';
}

/**
 * What every service has: validated config, JSON logs, PostgreSQL through
 * TypeORM, the event backbone, optionally Redis, `/health`, `/ready`,
 * `/metrics`, and (for REST services) the API error envelope and JSON body
 * parsing with a size limit.
 */
@Module({})
export class ServiceCoreModule implements NestModule {
  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  static forRoot(options: ServiceCoreOptions): DynamicModule {
    const { config, serviceName } = options;
    initMetrics(serviceName);
    const imports: Array<DynamicModule | Type> = [
      LoggerModule.forRootAsync({
        inject: [HttpAdapterHost],
        useFactory: (adapterHost: HttpAdapterHost) =>
          loggerParams(serviceName, config.LOG_LEVEL, adapterHost.httpAdapter.getType() === 'fastify' ? 'fastify' : 'express'),
      }),
      TypeOrmModule.forRoot({
        ...dataSourceOptions({
          url: config.DATABASE_URL,
          applicationName: serviceName,
          poolSize: config.DATABASE_POOL_SIZE,
          settings: options.databaseSettings,
        }),
        // Start-up fails fast if the database is unreachable; the orchestrator restarts us.
        retryAttempts: 3,
        retryDelay: 1000,
      }),
      MessagingModule.forRoot({
        serviceName,
        natsUrl: config.NATS_URL,
        namespace: config.EVENTS_NAMESPACE,
        relay: options.outboxRelay ?? true,
      }),
    ];
    if (options.redis) {
      if (!config.REDIS_URL) throw new Error(`${serviceName} uses Redis but its config has no REDIS_URL`);
      imports.push(RedisModule.forRoot({ url: config.REDIS_URL, keyPrefix: config.REDIS_PREFIX ?? 'odb' }));
    }
    return {
      global: true,
      module: ServiceCoreModule,
      imports,
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: SERVICE_CONFIG, useValue: config },
        ReadinessRegistry,
        CoreReadinessProbes,
        {
          provide: APP_FILTER,
          useFactory: (adapterHost: HttpAdapterHost) => new ApiExceptionFilter(adapterHost, config.NODE_ENV === 'production'),
          inject: [HttpAdapterHost],
        },
      ],
      exports: [SERVICE_CONFIG, ReadinessRegistry],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    // Fastify services get both from the adapter instead (hooks and its own body parser: see `http/fastify.ts`).
    if (this.adapterHost.httpAdapter.getType() !== 'express') return;
    consumer.apply(HttpMetricsMiddleware).forRoutes('{*splat}');
    if (isRestConfig(this.config)) consumer.apply(jsonBodyMiddleware(this.config.MAX_BODY_SIZE)).forRoutes('{*splat}');
  }
}
