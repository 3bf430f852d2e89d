import { IsInt, Max, Min } from 'class-validator';
import { AsInteger, ServiceConfig, WithRedis, WithRemoteCatalogs } from '@odb/platform';

export class HarvesterConfig extends WithRemoteCatalogs(WithRedis(ServiceConfig)) {
  override PORT = 8004;

  /** Harvest runs one replica carries out at once (of different sources: a source never runs twice at once). */
  @AsInteger()
  @IsInt()
  @Min(1)
  @Max(32)
  HARVEST_CONCURRENCY = 2;

  /** How often a running run proves it is alive (heartbeat column of harvest_run). */
  @AsInteger()
  @IsInt()
  @Min(100)
  HARVEST_HEARTBEAT_MS = 5_000;

  /** A running run without a heartbeat for this long was interrupted (crash): it is marked failed. */
  @AsInteger()
  @IsInt()
  @Min(1_000)
  HARVEST_STALE_AFTER_MS = 60_000;

  /** How long a run waits before trying again when its source is busy with another run. */
  @AsInteger()
  @IsInt()
  @Min(100)
  HARVEST_BUSY_RETRY_MS = 2_000;

  /** Datasets asked per page of a listing (adapters cap it at what their remote allows, e.g. CKAN 1000). */
  @AsInteger()
  @IsInt()
  @Min(1)
  HARVEST_PAGE_SIZE = 1_000;

  /** Largest data resource (CSV, JSON, GeoJSON) read in data mode, counted after decompression. */
  @AsInteger()
  @IsInt()
  @Min(1024)
  HARVEST_MAX_RESOURCE_BYTES = 1024 * 1024 * 1024;

  /** Record batches in flight to contributor-ingest at once (data mode). */
  @AsInteger()
  @IsInt()
  @Min(1)
  @Max(32)
  HARVEST_WRITE_CONCURRENCY = 4;

  /** Deadline of one call to contributor-ingest or the coordinator over NATS. */
  @AsInteger()
  @IsInt()
  @Min(1_000)
  HARVEST_RPC_TIMEOUT_MS = 60_000;
}
