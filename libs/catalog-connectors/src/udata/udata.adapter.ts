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
  PublishedResource,
  PublishingCatalogAdapter,
  RemoteDatasetSnapshot,
  SkippedDataset,
} from '../adapter';
import { adapterHttpClient, baseUrlOf, clamp, requireApiKey } from '../adapter-support';
import { CatalogHttpError, CatalogPayloadError } from '../errors';
import { SafeHttpClient } from '../http/safe-http-client';
import { ListingGuard, matchesLocally } from '../listing';
import { toUdataFrequency } from '../vocabularies/frequencies';
import { toUdataLicense } from '../vocabularies/licenses';
import { UdataDataset, UdataResource, normalizeUdataDataset } from './udata-normalize';

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 200;

export const UDATA_LOCAL_ID_EXTRA = 'odb_local_id';
export const UDATA_RESOURCE_KEY_EXTRA = 'odb_resource_key';

interface UdataPage {
  data: UdataDataset[];
  page?: number;
  page_size?: number;
  total?: number;
  next_page?: string | null;
}

/**
 * udata (data.gouv.fr) API v1. Harvest: `/api/1/datasets/` by `page` and
 * `page_size`, following `next_page`, with `organization`/`tag`/`q` filters
 * applied remotely and resource formats locally. udata has no "modified
 * since" filter, so an incremental listing sorts by `-last_update` and stops
 * at the first older dataset. Publish: POST to create; GET-merge-PUT to
 * update, because PUT resets what it is not sent.
 */
export class UdataAdapter implements PublishingCatalogAdapter {
  readonly kind = 'udata';
  readonly capabilities = ['harvest', 'publish'] as const;
  private readonly http: SafeHttpClient;
  private readonly baseUrl: string;

  constructor(
    private readonly config: CatalogAdapterConfig,
    private readonly options: CatalogAdapterOptions = {},
  ) {
    this.baseUrl = baseUrlOf(config);
    this.http = adapterHttpClient(config, options, config.apiKey ? { 'X-API-KEY': config.apiKey } : {});
  }

  async check(): Promise<CatalogCheckResult> {
    const site = await this.http.getJson<{ title?: string; metrics?: { datasets?: number } }>(this.api('site/'));
    const result: CatalogCheckResult = {
      title: site?.title,
      datasetCount: typeof site?.metrics?.datasets === 'number' ? site.metrics.datasets : undefined,
      software: 'udata',
    };
    if (this.config.apiKey) {
      const me = await this.http.request({ url: this.api('me/'), acceptStatus: (status) => status === 401 || status === 403 });
      result.authenticated = me.status < 300;
      const organizations = result.authenticated ? (me.json<{ organizations?: Array<{ id?: string; slug?: string }> }>().organizations ?? []) : [];
      const wanted = this.config.organization;
      if (result.authenticated && wanted && !organizations.some((org) => org.id === wanted || org.slug === wanted)) {
        result.warnings = [`the API key's user is not a member of organization ${wanted}`];
      }
    }
    return result;
  }

  async *listDatasets(
    filters: HarvestFilters = {},
    cursor: HarvestCursor = {},
    options: ListDatasetsOptions = {},
  ): AsyncIterable<DatasetPage> {
    const pageSize = clamp(this.options.pageSize ?? DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE);
    const guard = new ListingGuard(this.options);
    const since = cursor.modifiedSince ? Date.parse(cursor.modifiedSince) : undefined;
    const firstUrl = new URL(this.api('datasets/'));
    const query = {
      page: '1',
      page_size: String(pageSize),
      // Creation order is stable under offset paging; newest-updated first lets an incremental run stop early.
      sort: since === undefined ? 'created' : '-last_update',
      organization: filters.organization,
      q: filters.query?.trim() || undefined,
    };
    for (const [name, value] of Object.entries(query)) if (value) firstUrl.searchParams.set(name, value);
    for (const tag of filters.tags ?? []) firstUrl.searchParams.append('tag', tag);

    let url: URL | undefined = firstUrl;
    let firstTotal: number | undefined;
    for (let index = 1; url; index += 1) {
      const response = await this.http.request({ url, signal: options.signal });
      const page = response.json<UdataPage>();
      if (!page || !Array.isArray(page.data)) throw new CatalogPayloadError(response.url, 'udata page lacks a data array');
      firstTotal ??= page.total;
      if (page.data.length > 0 && guard.isRepeatedPage(page.data.map((remote) => String(remote?.id)))) {
        yield { index, datasets: [], skipped: [], total: page.total, incomplete: `page ${index} repeated an earlier page` };
        return;
      }
      const { datasets, skipped, reachedOlder } = this.normalizePage(page.data, since);
      const wanted = datasets.filter((dataset) => matchesLocally(dataset, filters, cursor, ['resourceFormats']));
      const admitted = guard.admit(guard.sortOut(wanted).fresh);
      url = reachedOlder || page.data.length === 0 ? undefined : this.nextPageUrl(page, url);
      let incomplete = admitted.limitReached;
      if (!url && !incomplete && since === undefined && page.total !== firstTotal) {
        incomplete = `the remote total changed while paging (${firstTotal} → ${page.total}); items may have been missed`;
      }
      yield { index, datasets: admitted.datasets, skipped, total: page.total, ...(incomplete ? { incomplete } : {}) };
      if (admitted.limitReached) return;
    }
  }

  async getDataset(remoteId: string): Promise<HarvestedDataset | undefined> {
    const remote = await this.readDataset(remoteId);
    if (!remote || remote.deleted) return undefined;
    const normalized = normalizeUdataDataset(remote);
    if ('skipped' in normalized) throw new CatalogPayloadError(this.api(`datasets/${remoteId}/`), normalized.skipped.reason);
    return normalized.dataset;
  }

  async publishDataset(dataset: PublishedDatasetMetadata, previous: PreviousPublication = {}): Promise<PublishResult> {
    requireApiKey(this.config, this.kind);
    const snapshot = previous.snapshot && previous.snapshot.remoteId === previous.remoteId ? (previous.snapshot.document as UdataDataset) : undefined;
    const existing = snapshot ?? (previous.remoteId ? await this.readDataset(previous.remoteId) : undefined);
    let saved: UdataDataset;
    if (existing) {
      const response = await this.http.request({
        method: 'PUT',
        url: this.api(`datasets/${encodeURIComponent(String(existing.id))}/`),
        json: this.merge(existing, dataset, previous),
      });
      saved = response.json<UdataDataset>();
    } else {
      // POST is only retried on 429: a create that happened must not be repeated.
      const response = await this.http.request({ method: 'POST', url: this.api('datasets/'), json: this.createBody(dataset) });
      saved = response.json<UdataDataset>();
    }
    if (!saved?.id) throw new CatalogPayloadError(this.api('datasets/'), 'udata answered without a dataset id');
    return {
      remoteId: saved.id,
      remoteUrl: saved.page ?? `${this.baseUrl}/datasets/${saved.slug ?? saved.id}/`,
      resourceIds: resourceIdsByKey(saved.resources ?? []),
    };
  }

  /**
   * The organization's datasets, listed `MAX_PAGE_SIZE` at a time, for the
   * ones asked for. udata lists only public, live datasets, and has no
   * filter by id: listing stops once every id was found, at the last page,
   * or after `maxRequests` pages.
   */
  async readForUpdate(remoteIds: readonly string[], maxRequests: number): Promise<Map<string, RemoteDatasetSnapshot>> {
    const found = new Map<string, RemoteDatasetSnapshot>();
    const organization = this.config.organization;
    if (!organization) return found;
    const missing = new Set(remoteIds);
    for (let page = 1; missing.size > 0 && page <= maxRequests; page += 1) {
      const response = await this.http.request({
        url: this.api('datasets/'),
        query: { organization, page, page_size: MAX_PAGE_SIZE, sort: 'created' },
      });
      const body = response.json<UdataPage>();
      if (!body || !Array.isArray(body.data)) throw new CatalogPayloadError(response.url, 'udata page lacks a data array');
      const readAt = Date.now();
      for (const remote of body.data) {
        const id = remote?.id ? String(remote.id) : undefined;
        if (id && missing.delete(id)) found.set(id, { remoteId: id, readAt, document: remote });
      }
      if (!body.next_page || body.data.length === 0) break;
    }
    return found;
  }

  async deleteDataset(remoteId: string): Promise<void> {
    requireApiKey(this.config, this.kind);
    // udata soft-deletes; 404/410 mean it is gone already.
    await this.http.request({
      method: 'DELETE',
      url: this.api(`datasets/${encodeURIComponent(remoteId)}/`),
      acceptStatus: (status) => status === 404 || status === 410,
    });
  }

  /**
   * The remote dataset, including a soft-deleted one when the key may edit it
   * (udata shows those to their owners), or undefined when it is gone.
   */
  private async readDataset(remoteId: string): Promise<UdataDataset | undefined> {
    const response = await this.http.request({
      url: this.api(`datasets/${encodeURIComponent(remoteId)}/`),
      acceptStatus: (status) => status === 404 || status === 410,
    });
    if (response.status === 404) return undefined;
    if (response.status === 410) {
      if (this.config.apiKey) {
        // Deleted and not ours to see: we can neither merge nor restore it.
        throw new CatalogHttpError('GET', response.url, 410, 'dataset deleted and not visible to this API key');
      }
      return undefined;
    }
    const remote = response.json<UdataDataset>();
    if (!remote || typeof remote !== 'object' || !remote.id) throw new CatalogPayloadError(response.url, 'not a udata dataset');
    return remote;
  }

  private createBody(dataset: PublishedDatasetMetadata): UdataDataset {
    return {
      ...this.managedFields(dataset),
      frequency: toUdataFrequency(dataset.frequency) ?? 'unknown',
      ...(this.config.organization ? { organization: { id: this.config.organization } } : {}),
      extras: { ...dataset.extras, [UDATA_LOCAL_ID_EXTRA]: dataset.localId },
      resources: dataset.resources.map((resource) => toUdataResource(resource)),
    };
  }

  /** The remote object with our fields laid over it: whatever others set there is sent back unchanged. */
  private merge(existing: UdataDataset, dataset: PublishedDatasetMetadata, previous: PreviousPublication): UdataDataset {
    return {
      ...existing,
      ...this.managedFields(dataset),
      frequency: toUdataFrequency(dataset.frequency) ?? existing.frequency,
      license: dataset.license ? toUdataLicense(dataset.license) : existing.license,
      temporal_coverage: dataset.temporal ? this.managedFields(dataset).temporal_coverage : existing.temporal_coverage,
      extras: { ...existing.extras, ...dataset.extras, [UDATA_LOCAL_ID_EXTRA]: dataset.localId },
      resources: mergeResources(existing.resources ?? [], dataset.resources, previous),
      // Republishing restores a dataset soft-deleted remotely.
      deleted: null,
    };
  }

  private managedFields(dataset: PublishedDatasetMetadata): UdataDataset {
    return {
      title: dataset.title,
      // udata requires a description.
      description: dataset.description?.trim() || dataset.title,
      tags: dataset.keywords ?? [],
      private: dataset.private ?? false,
      ...(dataset.license ? { license: toUdataLicense(dataset.license) } : {}),
      ...(dataset.temporal
        ? { temporal_coverage: { start: dataset.temporal.start ?? null, end: dataset.temporal.end ?? null } }
        : {}),
    };
  }

  /** `next_page` when it stays on this portal; our own next page otherwise (the API key must not travel elsewhere). */
  private nextPageUrl(page: UdataPage, current: URL): URL | undefined {
    if (!page.next_page) return undefined;
    const next = new URL(page.next_page, current);
    if (next.origin === new URL(this.baseUrl).origin) return next;
    const fallback = new URL(current);
    fallback.searchParams.set('page', String(Number(current.searchParams.get('page') ?? '1') + 1));
    return fallback;
  }

  private normalizePage(
    remotes: UdataDataset[],
    since: number | undefined,
  ): { datasets: HarvestedDataset[]; skipped: SkippedDataset[]; reachedOlder: boolean } {
    const datasets: HarvestedDataset[] = [];
    const skipped: SkippedDataset[] = [];
    let reachedOlder = false;
    for (const remote of remotes) {
      const normalized = normalizeUdataDataset(remote ?? {});
      if ('skipped' in normalized) {
        skipped.push(normalized.skipped);
        continue;
      }
      const modified = normalized.dataset.modified ? Date.parse(normalized.dataset.modified) : undefined;
      if (since !== undefined && modified !== undefined && modified < since) {
        reachedOlder = true;
        continue;
      }
      datasets.push(normalized.dataset);
    }
    return { datasets, skipped, reachedOlder };
  }

  private api(path: string): string {
    return `${this.baseUrl}/api/1/${path}`;
  }
}

function toUdataResource(resource: PublishedResource, id?: string): UdataResource {
  return {
    ...(id ? { id } : {}),
    title: resource.title,
    description: resource.description ?? '',
    url: resource.url,
    type: resource.type ?? 'main',
    filetype: 'remote',
    format: resource.format?.toLowerCase() ?? 'url',
    mime: resource.mediaType ?? null,
    extras: { [UDATA_RESOURCE_KEY_EXTRA]: resource.key },
  };
}

/** Same policy as for CKAN: ours keep their ids, others' stay, ours no longer published go. */
function mergeResources(
  existing: UdataResource[],
  resources: PublishedResource[],
  previous: PreviousPublication,
): UdataResource[] {
  const unclaimed = [...existing];
  const claim = (predicate: (resource: UdataResource) => boolean) => {
    const index = unclaimed.findIndex(predicate);
    return index < 0 ? undefined : unclaimed.splice(index, 1)[0];
  };
  const keyOf = (resource: UdataResource) => resource.extras?.[UDATA_RESOURCE_KEY_EXTRA];
  const ours = resources.map((resource) => {
    const knownId = previous.resourceIds?.[resource.key];
    const match =
      (knownId && claim((candidate) => candidate.id === knownId)) ||
      claim((candidate) => keyOf(candidate) === resource.key) ||
      claim((candidate) => !keyOf(candidate) && candidate.url === resource.url);
    return { ...(match ?? {}), ...toUdataResource(resource, match?.id), extras: { ...match?.extras, [UDATA_RESOURCE_KEY_EXTRA]: resource.key } };
  });
  const previousIds = new Set(Object.values(previous.resourceIds ?? {}));
  const others = unclaimed.filter((resource) => !keyOf(resource) && !previousIds.has(String(resource.id)));
  return [...ours, ...others];
}

function resourceIdsByKey(resources: UdataResource[]): Record<string, string> {
  const ids: Record<string, string> = {};
  for (const resource of resources) {
    const key = resource.extras?.[UDATA_RESOURCE_KEY_EXTRA];
    if (typeof key === 'string' && resource.id) ids[key] = resource.id;
  }
  return ids;
}
