import { IsInt, Max, Min } from 'class-validator';
import { AsInteger, IsServiceUrl, ServiceConfig, WithRedis, WithRemoteCatalogs } from '@odb/platform';

export class CatalogPublisherConfig extends WithRemoteCatalogs(WithRedis(ServiceConfig)) {
  override PORT = 8005;

  /** Public base URL of the Consumer API: published datasets link to it (records, CSV export, OpenAPI document). */
  @IsServiceUrl(['http:', 'https:'])
  PUBLIC_CONSUMER_URL = 'http://localhost:8003/v1';

  /** Changes to a publication within this window are pushed once, with the latest state. */
  @AsInteger()
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  PUBLISH_DEBOUNCE_MS = 1000;

  /** Pushes in progress at once in one publisher replica. */
  @AsInteger()
  @IsInt()
  @Min(1)
  @Max(200)
  PUBLISH_CONCURRENCY = 8;

  /** Attempts of a push (429, 5xx, network trouble) before the publication is marked `error`. */
  @AsInteger()
  @IsInt()
  @Min(1)
  @Max(50)
  PUBLISH_ATTEMPTS = 5;

  /** Delay before the second attempt of a push, doubled on each further one (Retry-After wins when longer). */
  @AsInteger()
  @IsInt()
  @Min(0)
  PUBLISH_BACKOFF_MS = 2000;

  /** Longest delay between two attempts of a push, Retry-After included. */
  @AsInteger()
  @IsInt()
  @Min(0)
  PUBLISH_MAX_BACKOFF_MS = 600_000;

  /** Retries of one HTTP request inside an attempt (quick blips), before the attempt fails. */
  @AsInteger()
  @IsInt()
  @Min(0)
  @Max(10)
  PUBLISH_HTTP_RETRIES = 2;

  /** Requests per second to any one remote catalog, per publisher replica (0: no pacing). */
  @AsInteger()
  @IsInt()
  @Min(0)
  PUBLISH_REQUESTS_PER_SECOND = 10;

  /**
   * Pending updates to one remote catalog from which the publisher reads the
   * remote datasets in bulk (listing pages) rather than one by one: one
   * request per update instead of two under a remote rate limit (0: never).
   */
  @AsInteger()
  @IsInt()
  @Min(0)
  PUBLISH_BULK_READ_THRESHOLD = 20;

  /** How long a push holds its publication without a heartbeat: the time to notice a crashed push. */
  @AsInteger()
  @IsInt()
  @Min(500)
  PUBLISH_LEASE_MS = 30_000;

  /** Period of the sweep that re-enqueues publications left waiting (lost job, crashed push). */
  @AsInteger()
  @IsInt()
  @Min(1000)
  PUBLISH_SWEEP_MS = 60_000;
}
