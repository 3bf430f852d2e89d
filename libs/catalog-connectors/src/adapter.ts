import type { SafeHttpClient, SafeHttpClientOptions } from './http/safe-http-client';
import type { Frequency } from './vocabularies/frequencies';
import type { LicenseRef } from './vocabularies/licenses';

/** What an adapter can do with its remote catalog. */
export type CatalogCapability = 'harvest' | 'publish';

/** Configuration of one remote catalog, as a coordinator enters it. */
export interface CatalogAdapterConfig {
  /** Base URL of the portal (CKAN, udata) or URL of the catalog document (DCAT). */
  url: string;
  /** Credential for writes (udata `X-API-KEY`, CKAN `Authorization`) and private reads. Never logged. */
  apiKey?: string;
  /** Remote organization to publish as (udata org id, CKAN `owner_org` id or name). */
  organization?: string;
}

/** Run-time settings that are not part of the remote catalog's identity. */
export interface CatalogAdapterOptions {
  /** Shared client (guards, pacing). The adapter derives one carrying its credentials. */
  http?: SafeHttpClient;
  /** Used when `http` is not given, e.g. `{ allowedHosts: [...] }` in tests. */
  httpOptions?: SafeHttpClientOptions;
  /** Datasets requested per page. Each adapter caps it at what its remote allows. */
  pageSize?: number;
  /** Listing stops (marked incomplete) after this many datasets. */
  maxItems?: number;
  /** Listing stops (marked incomplete) after this many pages. */
  maxPages?: number;
}

/** Harvest filters. Adapters apply them remotely when the API can, locally otherwise. */
export interface HarvestFilters {
  /** Remote organization (CKAN name/id, udata id, DCAT publisher name or URI). */
  organization?: string;
  /** Every tag must be present (AND). */
  tags?: string[];
  /** Free-text query, in the remote's own search syntax where it has one. */
  query?: string;
  /** Keep datasets having at least one distribution in one of these formats (case-insensitive). */
  resourceFormats?: string[];
}

/** Where an incremental harvest resumes. */
export interface HarvestCursor {
  /**
   * Only datasets modified at or after this instant (ISO 8601). A harvester
   * usually passes the start time of its last complete, error-free run minus
   * a safety margin. Deletions cannot be computed from an incremental listing.
   */
  modifiedSince?: string;
}

export interface ListDatasetsOptions {
  signal?: AbortSignal;
}

export interface HarvestedLicense extends LicenseRef {
  /** Platform license id (SPDX where it exists), absent when not recognised. */
  id?: string;
}

export interface HarvestedPublisher {
  name?: string;
  /** Remote id or URI of the organization. */
  id?: string;
}

export interface HarvestedTemporal {
  start?: string;
  end?: string;
}

export interface HarvestedSpatial {
  /** Place name or free text. */
  text?: string;
  /** URIs of places (GeoNames, EU NAL country…) or remote zone ids. */
  uris?: string[];
  /** GeoJSON geometry, when the remote gave one. */
  geometry?: { type: string; coordinates?: unknown; [key: string]: unknown };
}

export interface HarvestedDistribution {
  /** Stable id: the remote's own, else derived from the URL and title. */
  remoteId: string;
  title?: string;
  /** Short format name as the remote wrote it, upper-cased (CSV, JSON, WMS…). */
  format?: string;
  mediaType?: string;
  url: string;
  /** Bytes, where known. */
  size?: number;
}

/** One remote dataset, whatever the catalog kind, normalized. */
export interface HarvestedDataset {
  /** Identity within the source: CKAN `id`, udata `id`, DCAT `dct:identifier` else the node URI. */
  remoteId: string;
  title: string;
  description?: string;
  keywords: string[];
  license?: HarvestedLicense;
  publisher?: HarvestedPublisher;
  landingPage?: string;
  /** Page of the dataset on the remote portal, when it has one. */
  remoteUrl?: string;
  /** ISO 8601 instants. */
  modified?: string;
  issued?: string;
  frequency?: Frequency;
  temporal?: HarvestedTemporal;
  spatial?: HarvestedSpatial;
  distributions: HarvestedDistribution[];
}

/** A remote item that was listed but could not be turned into a dataset. */
export interface SkippedDataset {
  /** What identifies it in the remote listing, as well as we can tell. */
  reference: string;
  reason: string;
}

export interface DatasetPage {
  /** 1-based. */
  index: number;
  datasets: HarvestedDataset[];
  skipped: SkippedDataset[];
  /** Datasets of the remote matching the filters, when the remote says. */
  total?: number;
  /**
   * Set when the listing stopped early or may have missed items (a page
   * repeated, the remote count changed while paging, a limit was reached).
   * A harvester must not compute deletions from such a listing.
   */
  incomplete?: string;
}

export interface CatalogCheckResult {
  /** Title of the remote portal or catalog. */
  title?: string;
  /** Number of datasets the remote reports, where it does. */
  datasetCount?: number;
  /** Whether the API key was accepted; undefined when no key is configured. */
  authenticated?: boolean;
  /** Version or software name, where the remote tells. */
  software?: string;
  /** Things that will not stop harvesting but may stop publishing (e.g. the key lacks rights on the organization). */
  warnings?: string[];
}

/** A platform dataset (entity type) as pushed to a remote catalog. */
export interface PublishedDatasetMetadata {
  /** Platform id; names the remote dataset (CKAN `name`) and is recorded in its extras. */
  localId: string;
  title: string;
  description?: string;
  keywords?: string[];
  license?: LicenseRef;
  frequency?: Frequency;
  temporal?: HarvestedTemporal;
  /** Page of the dataset on this platform. */
  landingPage?: string;
  private?: boolean;
  /** Links back to this platform's APIs (the data stays here). */
  resources: PublishedResource[];
  /** Free key/values added to the remote's extras. */
  extras?: Record<string, string>;
}

export interface PublishedResource {
  /** Stable platform key (e.g. `api`, `openapi`, `csv`), used to keep remote resource ids stable. */
  key: string;
  title: string;
  url: string;
  description?: string;
  format?: string;
  mediaType?: string;
  /** udata resource type; defaults to `main`. */
  type?: 'main' | 'documentation' | 'api' | 'update' | 'code' | 'other';
}

/** What the platform remembers of an earlier push of the same dataset. */
export interface PreviousPublication {
  remoteId?: string;
  /** Platform resource key → remote resource id, as returned by the last publish. */
  resourceIds?: Record<string, string>;
  /**
   * The remote dataset `remoteId` as `readForUpdate` found it moments ago:
   * the update merges onto it instead of reading the dataset again. Whatever
   * changed remotely since it was read is overwritten, so keep it short-lived.
   */
  snapshot?: RemoteDatasetSnapshot;
}

/** A remote dataset as read in bulk, for a read-merge-write that saves its own read. */
export interface RemoteDatasetSnapshot {
  remoteId: string;
  /** When it was read (epoch ms). */
  readAt: number;
  /** The remote's own representation; only the adapter that read it understands it. */
  document: unknown;
}

export interface PublishResult {
  remoteId: string;
  remoteUrl: string;
  /** Platform resource key → remote resource id. */
  resourceIds: Record<string, string>;
}

/**
 * One remote catalog. Harvest methods are always present; publish methods
 * exist on adapters declaring the `publish` capability.
 */
export interface CatalogAdapter {
  readonly kind: string;
  readonly capabilities: readonly CatalogCapability[];

  /** Reachability and credentials: throws a CatalogError when the remote cannot be used. */
  check(): Promise<CatalogCheckResult>;

  /** Pages of normalized datasets, fetched lazily, de-duplicated by remote id across pages. */
  listDatasets(filters?: HarvestFilters, cursor?: HarvestCursor, options?: ListDatasetsOptions): AsyncIterable<DatasetPage>;

  /** One dataset, or undefined when the remote does not have it. */
  getDataset(remoteId: string): Promise<HarvestedDataset | undefined>;

  /**
   * Creates or updates the remote dataset (read-merge-write: fields others set
   * remotely are kept, remote resource ids stay stable, a soft-deleted remote
   * dataset is restored).
   */
  publishDataset?(dataset: PublishedDatasetMetadata, previous?: PreviousPublication): Promise<PublishResult>;

  /** Removes the remote dataset; succeeds when it is already gone. */
  deleteDataset?(remoteId: string): Promise<void>;
}

export interface PublishingCatalogAdapter extends CatalogAdapter {
  publishDataset(dataset: PublishedDatasetMetadata, previous?: PreviousPublication): Promise<PublishResult>;
  deleteDataset(remoteId: string): Promise<void>;
  /**
   * Optional: reads many published datasets in a few listing requests, for
   * updates of many datasets at once under a remote rate limit (one request
   * per update instead of two). Returns those it found (a dataset it cannot
   * see in listings, e.g. private or deleted, is simply absent), in at most
   * `maxRequests` requests.
   */
  readForUpdate?(remoteIds: readonly string[], maxRequests: number): Promise<Map<string, RemoteDatasetSnapshot>>;
}

export function canPublish(adapter: CatalogAdapter): adapter is PublishingCatalogAdapter {
  return adapter.capabilities.includes('publish') && !!adapter.publishDataset && !!adapter.deleteDataset;
}
