import { createHash } from 'crypto';
import { IsBoolean, IsIn, IsInt, IsString, Matches, Max, Min, NotEquals, ValidateIf } from 'class-validator';
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

export interface RemoteCatalogSettings {
  SECRETS_KEY: string;
  REMOTE_ALLOWED_HOSTS: string;
  REMOTE_ALLOW_PRIVATE_NETWORKS: boolean;
  REMOTE_TIMEOUT_MS: number;
}

/** Development value of SECRETS_KEY (derived from a fixed phrase, so public): refused in production. */
export const DEVELOPMENT_SECRETS_KEY = createHash('sha256').update('odb development secrets key').digest('base64');

/** Adds what services that talk to remote catalogs need: the key of stored API keys and the outbound guard. */
export function WithRemoteCatalogs<TBase extends new (...args: any[]) => ServiceConfig>(Base: TBase) {
  class WithRemoteCatalogsConfig extends Base implements RemoteCatalogSettings {
    /** 32 bytes, base64: encrypts remote catalogs' API keys at rest. */
    @Matches(/^[A-Za-z0-9+/]{43}=$/, { message: 'must be 32 bytes, base64-encoded (openssl rand -base64 32)' })
    @NotEquals(DEVELOPMENT_SECRETS_KEY, { message: 'SECRETS_KEY must be set to a key of your own in production' })
    @ValidateIf((config: ServiceConfig & RemoteCatalogSettings) => config.NODE_ENV === 'production' || config.SECRETS_KEY !== DEVELOPMENT_SECRETS_KEY)
    SECRETS_KEY = DEVELOPMENT_SECRETS_KEY;

    /** Hosts (name or name:port, comma-separated) exempt from the private-address guard, e.g. an intranet portal. */
    @IsString()
    REMOTE_ALLOWED_HOSTS = '';

    /** Let remote catalog URLs reach loopback and private networks (off: SSRF guard). */
    @AsBoolean()
    @IsBoolean()
    REMOTE_ALLOW_PRIVATE_NETWORKS = false;

    /** Deadline of one request to a remote catalog. */
    @AsInteger()
    @IsInt()
    @Min(100)
    REMOTE_TIMEOUT_MS = 30_000;
  }
  return WithRemoteCatalogsConfig;
}
