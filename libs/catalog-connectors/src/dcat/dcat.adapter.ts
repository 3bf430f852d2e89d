import type {
  CatalogAdapter,
  CatalogAdapterConfig,
  CatalogAdapterOptions,
  CatalogCheckResult,
  DatasetPage,
  HarvestCursor,
  HarvestFilters,
  HarvestedDataset,
  ListDatasetsOptions,
} from '../adapter';
import { adapterHttpClient, baseUrlOf } from '../adapter-support';
import { CatalogPayloadError } from '../errors';
import { HttpResponse, SafeHttpClient } from '../http/safe-http-client';
import { ListingGuard, matchesLocally } from '../listing';
import { DcatPageContent, extractDcatPage } from './dcat-extract';
import { extractPodCatalog, isPodCatalog } from './pod';
import { RdfFormat, detectRdfFormat, parseRdf } from './rdf-parse';

export interface DcatAdapterConfig extends CatalogAdapterConfig {
  /** Forces the serialization when the server's Content-Type is wrong. */
  format?: RdfFormat;
  /** Language tags preferred for titles and descriptions (default `['en']`). */
  preferredLanguages?: string[];
}

/** Remote JSON-LD contexts are small; a big one is a mistake or an attack. */
const MAX_CONTEXT_BYTES = 512 * 1024;
const MAX_CACHED_CONTEXTS = 20;

/**
 * A DCAT / DCAT-AP catalog document (JSON-LD, Turtle, RDF/XML) or a DCAT-US
 * `data.json`, paged with hydra (`hydra:next` of a PartialCollectionView, or
 * `hydra:nextPage` of a PagedCollection). Harvest only. A page whose content
 * repeats an earlier one, or a `next` that loops back, ends the listing
 * (marked incomplete). All filters are applied locally: DCAT has no query API.
 */
export class DcatAdapter implements CatalogAdapter {
  readonly kind = 'dcat';
  readonly capabilities = ['harvest'] as const;
  private readonly http: SafeHttpClient;
  /** For URLs outside the catalog's origin (hydra links, JSON-LD contexts): the credential stays home. */
  private readonly anonymousHttp: SafeHttpClient;
  private readonly catalogUrl: string;
  private readonly contexts = new Map<string, Promise<unknown>>();

  constructor(
    private readonly config: DcatAdapterConfig,
    private readonly options: CatalogAdapterOptions = {},
  ) {
    baseUrlOf(config); // rejects a non-http(s) URL early; the catalog URL itself keeps its query (e.g. ?format=)
    this.catalogUrl = config.url;
    this.http = adapterHttpClient(config, options, config.apiKey ? { Authorization: config.apiKey } : {});
    this.anonymousHttp = adapterHttpClient(config, options, {});
  }

  async check(): Promise<CatalogCheckResult> {
    const response = await this.fetchPage(this.catalogUrl);
    const page = await this.parsePage(response);
    return {
      title: page.catalogTitle,
      datasetCount: page.totalItems ?? (page.next ? undefined : page.datasets.length),
      software: 'DCAT',
    };
  }

  async *listDatasets(
    filters: HarvestFilters = {},
    cursor: HarvestCursor = {},
    options: ListDatasetsOptions = {},
  ): AsyncIterable<DatasetPage> {
    const guard = new ListingGuard(this.options);
    const visited = new Set<string>();
    let url: string | undefined = this.catalogUrl;
    for (let index = 1; url; index += 1) {
      visited.add(url);
      const response = await this.fetchPage(url, options.signal);
      if (guard.isRepeatedPage(response.body)) {
        yield { index, datasets: [], skipped: [], incomplete: `${response.url} has the same content as an earlier page` };
        return;
      }
      const page = await this.parsePage(response);
      const { fresh, repeated } = guard.sortOut(page.datasets);
      const wanted = fresh.filter((dataset) =>
        matchesLocally(dataset, filters, cursor, ['organization', 'tags', 'query', 'resourceFormats', 'modifiedSince']),
      );
      const admitted = guard.admit(wanted);
      // A catalog that reuses an identifier has two datasets under one identity: report, keep the first.
      const skipped = [
        ...page.skipped,
        ...repeated.map((dataset) => ({ reference: dataset.remoteId, reason: 'identifier already used by an earlier dataset' })),
      ];
      const next: string | undefined = page.next ? new URL(page.next, url).toString() : undefined;
      let incomplete = admitted.limitReached;
      if (!incomplete && next && visited.has(next)) incomplete = `next page ${next} was already visited (paging loops)`;
      yield { index, datasets: admitted.datasets, skipped, total: page.totalItems, ...(incomplete ? { incomplete } : {}) };
      if (incomplete) return;
      url = next;
    }
  }

  /** DCAT has no per-dataset endpoint: walks the catalog until the dataset appears. */
  async getDataset(remoteId: string): Promise<HarvestedDataset | undefined> {
    for await (const page of this.listDatasets()) {
      const found = page.datasets.find((dataset) => dataset.remoteId === remoteId);
      if (found) return found;
    }
    return undefined;
  }

  private fetchPage(url: string, signal?: AbortSignal): Promise<HttpResponse> {
    const sameOrigin = new URL(url).origin === new URL(this.catalogUrl).origin;
    return (sameOrigin ? this.http : this.anonymousHttp).request({
      url,
      signal,
      headers: {
        accept: 'application/ld+json, text/turtle;q=0.9, application/rdf+xml;q=0.9, application/json;q=0.8, */*;q=0.1',
      },
    });
  }

  private async parsePage(response: HttpResponse): Promise<DcatPageContent> {
    const body = response.text();
    const contentType = this.config.format ? undefined : String(response.headers['content-type'] ?? '');
    const format = this.config.format ?? detectRdfFormat(contentType, response.url, body);
    if (format === 'jsonld') {
      let document: unknown;
      try {
        document = JSON.parse(body);
      } catch (error) {
        throw new CatalogPayloadError(response.url, `invalid JSON (${body.length} bytes): ${(error as Error).message}`, error);
      }
      if (isPodCatalog(document)) return extractPodCatalog(document);
    }
    const store = await parseRdf(body, format, response.url, (contextUrl) => this.loadContext(contextUrl));
    return extractDcatPage(store, { preferredLanguages: this.config.preferredLanguages });
  }

  /** Remote JSON-LD contexts go through the same guarded client, small and cached. */
  private loadContext(url: string): Promise<unknown> {
    let context = this.contexts.get(url);
    if (!context) {
      if (this.contexts.size >= MAX_CACHED_CONTEXTS) throw new Error(`more than ${MAX_CACHED_CONTEXTS} remote contexts`);
      context = this.anonymousHttp
        .request({ url, headers: { accept: 'application/ld+json, application/json' }, maxResponseBytes: MAX_CONTEXT_BYTES })
        .then((response) => response.json());
      this.contexts.set(url, context);
      context.catch(() => this.contexts.delete(url));
    }
    return context;
  }
}
