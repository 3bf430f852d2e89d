import { IsBoolean, IsIn, IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { AsBoolean, AsInteger, IsBasePath, IsServiceUrl } from './validators';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Variables every service reads. Defaults work against the local infrastructure. */
export class ServiceConfig {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV = 'development';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL = 'info';

  /** Interface to listen on. */
  @IsString()
  HOST = '0.0.0.0';

  @AsInteger()
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 0;

  @IsServiceUrl(['postgres:', 'postgresql:'])
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/odb';

  @AsInteger()
  @IsInt()
  @Min(1)
  @Max(200)
  DATABASE_POOL_SIZE = 10;

  @IsServiceUrl(['nats:', 'tls:'])
  NATS_URL = 'nats://127.0.0.1:4222';

  /** Prefix of NATS streams and subjects: one per deployment sharing a NATS cluster. */
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'must be letters, digits, - or _' })
  EVENTS_NAMESPACE = 'odb';

  /** Apply pending database migrations before starting. */
  @AsBoolean()
  @IsBoolean()
  MIGRATE_ON_START = false;

  /** How long a SIGTERM waits for in-flight requests, jobs and messages. */
  @AsInteger()
  @IsInt()
  @Min(0)
  SHUTDOWN_GRACE_MS = 15_000;
}

/** Services that serve a REST API under a base path. */
export class RestServiceConfig extends ServiceConfig {
  /** Base path of the API (BitBroker deployments use e.g. /coordinator/v1). */
  @IsBasePath()
  API_BASE = '/v1';

  /** Largest accepted JSON body, e.g. 10mb; larger ones get 413. */
  @Matches(/^\d+(b|kb|mb)$/i, { message: 'must be a size such as 512kb or 10mb' })
  MAX_BODY_SIZE = '10mb';
}

export interface RedisSettings {
  REDIS_URL: string;
  REDIS_PREFIX: string;
}

/** Adds the Redis variables to a service's configuration class. */
export function WithRedis<TBase extends new (...args: any[]) => ServiceConfig>(Base: TBase) {
  class WithRedisConfig extends Base implements RedisSettings {
    @IsServiceUrl(['redis:', 'rediss:'])
    REDIS_URL = 'redis://127.0.0.1:6379';

    /** Prefix of every Redis key the service writes (BullMQ queues included). */
    @Matches(/^[A-Za-z0-9_:-]+$/, { message: 'must be letters, digits, - _ or :' })
    REDIS_PREFIX = 'odb';
  }
  return WithRedisConfig;
}
