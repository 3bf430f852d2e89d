import type {
  CatalogAdapterConfig,
  CatalogAdapterOptions,
  CatalogCheckResult,
  DatasetPage,
  HarvestCursor,
  HarvestFilters,
  HarvestedDataset,
  ListDatasetsOptions,
  PreviousPublication,
  PublishResult,
  PublishedDatasetMetadata,
  PublishingCatalogAdapter,
  SkippedDataset,
} from '../adapter';
import { adapterHttpClient, baseUrlOf, clamp, requireApiKey } from '../adapter-support';
import { CatalogApiError, CatalogError, CatalogHttpError, CatalogPayloadError } from '../errors';
import { RetryPolicy, SafeHttpClient } from '../http/safe-http-client';
import { ListingGuard } from '../listing';
import { toEuFrequencyUri } from '../vocabularies/frequencies';
import { toCkanLicense } from '../vocabularies/licenses';
import { suffixedCkanName, toCkanName, toCkanTags } from './ckan-names';
import { CkanPackage, CkanResource, extrasOf, normalizeCkanPackage, unwrapPackage } from './ckan-normalize';

/** CKAN caps `rows` at 1000 (`ckan.search.rows_max`). */
export const CKAN_MAX_ROWS = 1000;
const DEFAULT_ROWS = 100;

/** Extras and resource fields by which we recognise what we published. */
export const CKAN_LOCAL_ID_EXTRA = 'odb_local_id';
export const CKAN_RESOURCE_KEY_FIELD = 'odb_resource_key';

interface CkanEnvelope<T> {
  success?: boolean;
  result?: T;
  error?: { __type?: string; message?: string; [field: string]: unknown };
}

interface CkanSearchResult {
  count: number;
  results: CkanPackage[];
}

/**
 * CKAN Action API v3. Harvest: `package_search` sorted by `id asc` with
 * `fq` filters and an offset that advances by what was actually returned
 * (servers may cap rows below what we ask), de-duplicated across pages.
 * Publish: `package_create`, then read-merge `package_patch` (never
 * `package_update`, which drops fields not resent).
 */
export class CkanAdapter implements PublishingCatalogAdapter {
  readonly kind = 'ckan';
  readonly capabilities = ['harvest', 'publish'] as const;
  private readonly http: SafeHttpClient;
  private readonly baseUrl: string;

  constructor(
    private readonly config: CatalogAdapterConfig,
    private readonly options: CatalogAdapterOptions = {},
  ) {
    this.baseUrl = baseUrlOf(config);
    this.http = adapterHttpClient(config, options, config.apiKey ? { Authorization: config.apiKey } : {});
  }

  async check(): Promise<CatalogCheckResult> {
    const status = await this.action<{ site_title?: string; ckan_version?: string }>('status_show', {}).catch(
      (error: unknown) => {
        // Some portals disable status_show; package_search below still proves the API answers.
        if (error instanceof CatalogApiError || (error instanceof CatalogError && error.status === 404)) return undefined;
        throw error;
      },
    );
    const search = await this.action<CkanSearchResult>('package_search', { rows: 0 });
    const result: CatalogCheckResult = {
      title: status?.site_title,
      datasetCount: typeof search.count === 'number' ? search.count : undefined,
      software: status?.ckan_version ? `CKAN ${status.ckan_version}` : 'CKAN',
    };
    if (this.config.apiKey) {
      try {
        const organizations = await this.action<Array<{ id?: string; name?: string }>>('organization_list_for_user', {
          permission: 'create_dataset',
        });
        result.authenticated = true;
        const wanted = this.config.organization;
        if (wanted && !organizations.some((org) => org.id === wanted || org.name === wanted)) {
          result.warnings = [`the API key cannot create datasets in organization ${wanted}`];
        }
      } catch (error) {
        if (error instanceof CatalogError && error.status === 403) result.authenticated = false;
        else throw error;
      }
    }
    return result;
  }

  async *listDatasets(
    filters: HarvestFilters = {},
    cursor: HarvestCursor = {},
    options: ListDatasetsOptions = {},
  ): AsyncIterable<DatasetPage> {
    const rows = clamp(this.options.pageSize ?? DEFAULT_ROWS, 1, CKAN_MAX_ROWS);
    const guard = new ListingGuard(this.options);
    const params = {
      q: filters.query?.trim() || '*:*',
      fq: buildFilterQuery(filters, cursor),
      rows,
      // A stable order: offset paging over `score`/`metadata_modified` shuffles between pages.
      sort: 'id asc',
    };
    let start = 0;
    let firstCount: number | undefined;
    for (let index = 1; ; index += 1) {
      const result = await this.action<CkanSearchResult>('package_search', { ...params, start }, options.signal);
      if (!result || typeof result.count !== 'number' || !Array.isArray(result.results)) {
        throw new CatalogPayloadError(this.actionUrl('package_search'), 'package_search result lacks count/results');
      }
      firstCount ??= result.count;
      const ids = result.results.map((pkg) => String(pkg?.id ?? pkg?.name ?? ''));
      if (result.results.length > 0 && guard.isRepeatedPage(ids)) {
        yield { index, datasets: [], skipped: [], total: result.count, incomplete: `page at offset ${start} repeated an earlier page` };
        return;
      }
      const { datasets, skipped } = this.normalizeAll(result.results);
      const admitted = guard.admit(guard.sortOut(datasets).fresh);
      start += result.results.length;
      const last = result.results.length === 0 || start >= result.count;
      let incomplete = admitted.limitReached;
      if (last && !incomplete && result.count !== firstCount) {
        incomplete = `the remote count changed while paging (${firstCount} → ${result.count}); items may have been missed`;
      }
      yield { index, datasets: admitted.datasets, skipped, total: result.count, ...(incomplete ? { incomplete } : {}) };
      if (last || admitted.limitReached) return;
    }
  }

  async getDataset(remoteId: string): Promise<HarvestedDataset | undefined> {
    const pkg = await this.findPackage(remoteId);
    if (!pkg || pkg.state === 'deleted') return undefined;
    const normalized = normalizeCkanPackage(pkg, { portalUrl: this.baseUrl });
    if ('skipped' in normalized) throw new CatalogPayloadError(this.actionUrl('package_show'), normalized.skipped.reason);
    return normalized.dataset;
  }

  async publishDataset(dataset: PublishedDatasetMetadata, previous: PreviousPublication = {}): Promise<PublishResult> {
    requireApiKey(this.config, this.kind);
    let existing = previous.remoteId ? await this.findPackage(previous.remoteId) : undefined;
    let name = toCkanName(dataset.localId);
    if (!existing) {
      // A create whose response was lost left a package under our name: adopt it rather than duplicate.
      const sameName = await this.findPackage(name);
      if (sameName && extrasOf(sameName)[CKAN_LOCAL_ID_EXTRA] === dataset.localId) existing = sameName;
      else if (sameName) name = suffixedCkanName(name, dataset.localId);
    }
    const saved = existing ? await this.updatePackage(existing, dataset, previous) : await this.createPackage(name, dataset);
    return {
      remoteId: String(saved.id),
      remoteUrl: `${this.baseUrl}/dataset/${saved.name ?? saved.id}`,
      resourceIds: resourceIdsByKey(saved),
    };
  }

  async deleteDataset(remoteId: string): Promise<void> {
    requireApiKey(this.config, this.kind);
    try {
      await this.action('package_delete', { id: remoteId }, undefined, { write: true, retry: 'idempotent' });
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
  }

  private async createPackage(name: string, dataset: PublishedDatasetMetadata): Promise<CkanPackage> {
    const body = {
      name,
      ...this.managedFields(dataset),
      owner_org: this.config.organization,
      extras: mergeExtras([], this.managedExtras(dataset)),
      resources: dataset.resources.map((resource) => toCkanResource(resource)),
    };
    // Not retried on 5xx: a create that did happen would be repeated. A lost
    // response is caught on the next push by the name lookup above.
    return this.action<CkanPackage>('package_create', body, undefined, { write: true, retry: 'auto' });
  }

  private async updatePackage(
    existing: CkanPackage,
    dataset: PublishedDatasetMetadata,
    previous: PreviousPublication,
  ): Promise<CkanPackage> {
    const body: Record<string, unknown> = {
      id: existing.id,
      ...this.managedFields(dataset),
      extras: mergeExtras(Array.isArray(existing.extras) ? existing.extras : [], this.managedExtras(dataset)),
      resources: mergeResources(existing.resources ?? [], dataset, previous),
    };
    // package_delete only flags the package; republishing brings it back.
    if (existing.state === 'deleted') body.state = 'active';
    return this.action<CkanPackage>('package_patch', body, undefined, { write: true, retry: 'idempotent' });
  }

  private managedFields(dataset: PublishedDatasetMetadata): Record<string, unknown> {
    return {
      title: dataset.title,
      notes: dataset.description ?? '',
      private: dataset.private ?? false,
      url: dataset.landingPage ?? '',
      license_id: dataset.license ? toCkanLicense(dataset.license) : undefined,
      tags: toCkanTags(dataset.keywords).map((tag) => ({ name: tag })),
    };
  }

  private managedExtras(dataset: PublishedDatasetMetadata): Record<string, string> {
    const extras: Record<string, string> = { ...dataset.extras, [CKAN_LOCAL_ID_EXTRA]: dataset.localId };
    const frequency = toEuFrequencyUri(dataset.frequency);
    if (frequency) extras.frequency = frequency;
    if (dataset.temporal?.start) extras.temporal_start = dataset.temporal.start;
    if (dataset.temporal?.end) extras.temporal_end = dataset.temporal.end;
    return extras;
  }

  private async findPackage(idOrName: string): Promise<CkanPackage | undefined> {
    try {
      return unwrapPackage(await this.action<unknown>('package_show', { id: idOrName }));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private normalizeAll(packages: CkanPackage[]): { datasets: HarvestedDataset[]; skipped: SkippedDataset[] } {
    const datasets: HarvestedDataset[] = [];
    const skipped: SkippedDataset[] = [];
    for (const pkg of packages) {
      const normalized = normalizeCkanPackage(pkg ?? {}, { portalUrl: this.baseUrl });
      if ('dataset' in normalized) datasets.push(normalized.dataset);
      else skipped.push(normalized.skipped);
    }
    return { datasets, skipped };
  }

  private actionUrl(action: string): string {
    return `${this.baseUrl}/api/3/action/${action}`;
  }

  /**
   * Calls an action and unwraps the envelope. `success` is checked whatever
   * the HTTP status: old CKANs and some proxies answer errors with 200.
   */
  private async action<T>(
    name: string,
    params: Record<string, unknown>,
    signal?: AbortSignal,
    options: { write?: boolean; retry?: RetryPolicy } = {},
  ): Promise<T> {
    const url = this.actionUrl(name);
    const response = options.write
      ? await this.http.request({ method: 'POST', url, json: params, retry: options.retry, acceptStatus: isClientError, signal })
      : await this.http.request({ url, query: toQuery(params), acceptStatus: isClientError, signal });
    let envelope: CkanEnvelope<T>;
    try {
      envelope = response.json<CkanEnvelope<T>>();
    } catch (error) {
      // An HTML 404/403 page from a proxy says more by its status than by its body.
      if (response.status >= 400) throw new CatalogHttpError(options.write ? 'POST' : 'GET', response.url, response.status);
      throw error;
    }
    if (!envelope || typeof envelope !== 'object' || typeof envelope.success !== 'boolean') {
      throw new CatalogPayloadError(response.url, `not a CKAN Action API response (HTTP ${response.status})`);
    }
    if (!envelope.success) {
      const { __type, message, ...fields } = envelope.error ?? {};
      const fieldErrors = Object.fromEntries(
        Object.entries(fields)
          .filter(([, value]) => Array.isArray(value))
          .map(([field, value]) => [field, (value as unknown[]).map(String)]),
      );
      const detail =
        message ?? (Object.keys(fieldErrors).length ? Object.entries(fieldErrors).map(([f, m]) => `${f}: ${m.join(', ')}`).join('; ') : 'unknown error');
      throw new CatalogApiError(
        response.url,
        this.http.redact(String(detail)),
        __type,
        fieldErrors,
        response.status >= 400 ? response.status : statusForCkanError(__type),
      );
    }
    if (response.status >= 400) {
      throw new CatalogPayloadError(response.url, `HTTP ${response.status} with success: true`);
    }
    return envelope.result as T;
  }
}

/** `fq` clauses (each required) for the harvest filters and the incremental cursor. */
export function buildFilterQuery(filters: HarvestFilters, cursor: HarvestCursor): string | undefined {
  const clauses: string[] = [];
  if (filters.organization) {
    const field = /^[0-9a-f]{8}-[0-9a-f]{4}-/i.test(filters.organization) ? 'owner_org' : 'organization';
    clauses.push(`+${field}:${solrQuote(filters.organization)}`);
  }
  for (const tag of filters.tags ?? []) clauses.push(`+tags:${solrQuote(tag)}`);
  if (filters.resourceFormats?.length) {
    // res_format is a case-sensitive string field: ask for the usual spellings.
    const variants = new Set(filters.resourceFormats.flatMap((format) => [format, format.toUpperCase(), format.toLowerCase()]));
    clauses.push(`+res_format:(${[...variants].map(solrQuote).join(' OR ')})`);
  }
  if (cursor.modifiedSince) {
    const since = new Date(cursor.modifiedSince);
    if (Number.isNaN(since.getTime())) throw new CatalogError('invalid-config', `invalid modifiedSince: ${cursor.modifiedSince}`);
    clauses.push(`+metadata_modified:[${since.toISOString()} TO *]`);
  }
  return clauses.length ? clauses.join(' ') : undefined;
}

function solrQuote(value: string): string {
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

function toQuery(params: Record<string, unknown>): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(params).map(([key, value]) => [key, value === undefined ? undefined : String(value)]),
  );
}

function isClientError(status: number): boolean {
  return status >= 400 && status < 500;
}

function isNotFound(error: unknown): boolean {
  return (
    error instanceof CatalogError &&
    (error.status === 404 || (error instanceof CatalogApiError && error.remoteType === 'Not Found Error'))
  );
}

function statusForCkanError(type: string | undefined): number | undefined {
  switch (type) {
    case 'Not Found Error':
      return 404;
    case 'Authorization Error':
      return 403;
    case 'Validation Error':
      return 409;
    // Server-side failures (views/api.py answers them with 500): transient, worth retrying.
    case 'Internal Server Error':
    case 'Search Index Error':
    case 'Search Connection Error':
      return 500;
    default:
      return undefined;
  }
}

function mergeExtras(
  existing: Array<{ key: string; value: unknown }>,
  ours: Record<string, string>,
): Array<{ key: string; value: string }> {
  const merged = new Map<string, string>();
  for (const extra of existing) if (extra && typeof extra.key === 'string') merged.set(extra.key, String(extra.value ?? ''));
  for (const [key, value] of Object.entries(ours)) merged.set(key, value);
  return [...merged].map(([key, value]) => ({ key, value }));
}

function toCkanResource(resource: PublishedDatasetMetadata['resources'][number], id?: string): CkanResource {
  return {
    ...(id ? { id } : {}),
    name: resource.title,
    url: resource.url,
    description: resource.description ?? '',
    format: resource.format ?? '',
    mimetype: resource.mediaType ?? null,
    [CKAN_RESOURCE_KEY_FIELD]: resource.key,
  };
}

/**
 * Our resources keep their remote ids (matched by the id we were given last
 * time, then our key field, then URL); resources others added stay; ours that
 * the platform no longer has are dropped.
 */
function mergeResources(
  existing: CkanResource[],
  dataset: PublishedDatasetMetadata,
  previous: PreviousPublication,
): CkanResource[] {
  const unclaimed = [...existing];
  const claim = (predicate: (resource: CkanResource) => boolean) => {
    const index = unclaimed.findIndex(predicate);
    return index < 0 ? undefined : unclaimed.splice(index, 1)[0];
  };
  const ours = dataset.resources.map((resource) => {
    const knownId = previous.resourceIds?.[resource.key];
    const match =
      (knownId && claim((candidate) => candidate.id === knownId)) ||
      claim((candidate) => candidate[CKAN_RESOURCE_KEY_FIELD] === resource.key) ||
      claim((candidate) => !candidate[CKAN_RESOURCE_KEY_FIELD] && candidate.url === resource.url);
    return toCkanResource(resource, match ? match.id : undefined);
  });
  const previousIds = new Set(Object.values(previous.resourceIds ?? {}));
  const others = unclaimed.filter((resource) => !resource[CKAN_RESOURCE_KEY_FIELD] && !previousIds.has(String(resource.id)));
  return [...ours, ...others];
}

function resourceIdsByKey(pkg: CkanPackage): Record<string, string> {
  const ids: Record<string, string> = {};
  for (const resource of pkg.resources ?? []) {
    const key = resource[CKAN_RESOURCE_KEY_FIELD];
    if (typeof key === 'string' && resource.id) ids[key] = resource.id;
  }
  return ids;
}
