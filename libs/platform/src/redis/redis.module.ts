import { DynamicModule, Inject, Injectable, Logger, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { ReadinessRegistry } from '../health/readiness';

export const REDIS_CLIENT = Symbol('REDIS_CLIENT');

export interface RedisModuleOptions {
  url: string;
  /** Prefix of every key this client writes. */
  keyPrefix: string;
}

@Injectable()
class RedisLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    private readonly readiness: ReadinessRegistry,
  ) {}

  onModuleInit(): void {
    // ioredis reconnects by itself; without a listener every failed attempt is an "unhandled error" line.
    let reported = false;
    this.redis.on('error', (error: Error) => {
      if (!reported) this.logger.warn(`Redis unavailable, reconnecting: ${error.message}`);
      reported = true;
    });
    this.redis.on('ready', () => {
      if (reported) this.logger.log('Redis connection restored');
      reported = false;
    });
    this.readiness.register({
      name: 'redis',
      check: async () => {
        await this.redis.ping();
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** A shared ioredis client (rate limits, caches) with a readiness probe. */
@Module({})
export class RedisModule {
  static forRoot(options: RedisModuleOptions): DynamicModule {
    return {
      global: true,
      module: RedisModule,
      providers: [
        {
          provide: REDIS_CLIENT,
          useFactory: () =>
            new Redis(options.url, {
              keyPrefix: `${options.keyPrefix}:`,
              // Fail commands fast while disconnected instead of queueing them for ever.
              maxRetriesPerRequest: 2,
              enableOfflineQueue: true,
            }),
        },
        RedisLifecycle,
      ],
      exports: [REDIS_CLIENT],
    };
  }
}
