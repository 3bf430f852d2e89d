import { Literal, Quad_Object, Quad_Subject, Store, Term } from 'n3';
import type {
  HarvestedDataset,
  HarvestedDistribution,
  HarvestedLicense,
  HarvestedPublisher,
  HarvestedSpatial,
  HarvestedTemporal,
  SkippedDataset,
} from '../adapter';
import {
  derivedDistributionId,
  toByteSize,
  toFormat,
  toHttpUrl,
  toIsoDate,
  toMediaType,
  uniqueStrings,
  withoutUndefined,
} from '../normalize';
import { toFrequency } from '../vocabularies/frequencies';
import { resolveLicense } from '../vocabularies/licenses';
import { T } from './vocabulary';

export interface DcatExtractOptions {
  /** Language tags preferred for titles and descriptions, in order; untagged literals come first. */
  preferredLanguages?: readonly string[];
}

export interface DcatPageContent {
  catalogTitle?: string;
  datasets: HarvestedDataset[];
  skipped: SkippedDataset[];
  /** hydra `totalItems`, when present. */
  totalItems?: number;
  /** hydra `next` (PartialCollectionView) or `nextPage` (PagedCollection), as written (maybe relative). */
  next?: string;
}

/**
 * Reads DCAT datasets from a graph: every node typed `dcat:Dataset` (or
 * `dcat:DatasetSeries`), whether it is a URI or a blank node, whatever the
 * nesting of the source document. Identity is `dct:identifier`, else the node
 * URI; a blank node without identifier has no stable identity and is skipped.
 */
export function extractDcatPage(store: Store, options: DcatExtractOptions = {}): DcatPageContent {
  const reader = new GraphReader(store, options.preferredLanguages ?? ['en']);
  const datasets: HarvestedDataset[] = [];
  const skipped: SkippedDataset[] = [];
  const seen = new Set<string>();
  for (const type of [T.Dataset, T.DatasetSeries]) {
    for (const node of store.getSubjects(T.type, type, null)) {
      if (seen.has(node.id)) continue;
      seen.add(node.id);
      const result = reader.dataset(node);
      if ('dataset' in result) datasets.push(result.dataset);
      else skipped.push(result.skipped);
    }
  }
  const catalog = store.getSubjects(T.type, T.Catalog, null)[0];
  return {
    catalogTitle: catalog ? reader.text(catalog, T.title) : undefined,
    datasets,
    skipped,
    totalItems: reader.firstNumber(T.hydraTotalItems),
    // hydra:next first: hydra:nextPage is the deprecated spelling.
    next: reader.firstValue(T.hydraNext) ?? reader.firstValue(T.hydraNextPage),
  };
}

class GraphReader {
  constructor(
    private readonly store: Store,
    private readonly languages: readonly string[],
  ) {}

  dataset(node: Quad_Subject): { dataset: HarvestedDataset } | { skipped: SkippedDataset } {
    const reference = node.termType === 'NamedNode' ? node.value : `blank node ${node.value}`;
    const remoteId = this.plain(node, T.identifier) ?? (node.termType === 'NamedNode' ? node.value : undefined);
    if (!remoteId) return { skipped: { reference, reason: 'blank node without dct:identifier: no stable identity' } };
    const title = this.text(node, T.title);
    if (!title) return { skipped: { reference: remoteId, reason: 'dataset has no dct:title' } };
    const distributions = this.objects(node, T.distribution).flatMap((distribution) => this.distribution(remoteId, distribution));
    const landingPage = this.urls(node, T.landingPage)[0];
    return {
      dataset: withoutUndefined({
        remoteId,
        title,
        description: this.text(node, T.description) ?? this.text(node, T.abstract),
        keywords: uniqueStrings(this.objects(node, T.keyword).filter(isLiteral).map((literal) => literal.value)),
        license: this.license(node, distributions),
        publisher: this.publisher(node),
        landingPage,
        remoteUrl: landingPage ?? toHttpUrl(node.termType === 'NamedNode' ? node.value : undefined),
        modified: toIsoDate(this.plain(node, T.modified)),
        issued: toIsoDate(this.plain(node, T.issued)),
        frequency: this.frequency(node),
        temporal: this.temporal(node),
        spatial: this.spatial(node),
        distributions: distributions.map(({ distribution }) => distribution),
      }),
    };
  }

  private distribution(datasetId: string, node: Quad_Object): Array<{ distribution: HarvestedDistribution; node: Term }> {
    if (node.termType === 'Literal') {
      const url = toHttpUrl(node.value);
      return url ? [{ distribution: { remoteId: derivedDistributionId(datasetId, url), url }, node }] : [];
    }
    const subject = node as Quad_Subject;
    const url = this.urls(subject, T.downloadURL)[0] ?? this.urls(subject, T.accessURL)[0];
    if (!url) return [];
    const title = this.text(subject, T.title);
    const mediaType = this.objects(subject, T.mediaType).map((term) => toMediaType(this.valueOf(term))).find(Boolean);
    const format = this.objects(subject, T.format).map((term) => toFormat(this.valueOf(term), mediaType)).find(Boolean);
    const remoteId =
      this.plain(subject, T.identifier) ??
      (subject.termType === 'NamedNode' ? subject.value : derivedDistributionId(datasetId, url, title));
    return [
      {
        distribution: withoutUndefined({
          remoteId,
          title,
          format: format ?? toFormat(undefined, mediaType),
          mediaType,
          url,
          size: toByteSize(this.plain(subject, T.byteSize)),
        }),
        node: subject,
      },
    ];
  }

  /** dct:license, else a dct:rights naming a known license, else the distributions' dct:license (as udata does). */
  private license(node: Quad_Subject, distributions: Array<{ node: Term }>): HarvestedLicense | undefined {
    const fromTerms = (terms: Quad_Object[]) => terms.map((term) => this.licenseRef(term)).find(Boolean);
    const declared = fromTerms(this.objects(node, T.license));
    if (declared) return declared;
    const rights = fromTerms(this.objects(node, T.rights));
    if (rights?.id) return rights;
    for (const { node: distribution } of distributions) {
      if (distribution.termType === 'Literal') continue;
      const license = fromTerms(this.objects(distribution as Quad_Subject, T.license));
      if (license) return license;
    }
    return undefined;
  }

  private licenseRef(term: Quad_Object): HarvestedLicense | undefined {
    if (term.termType === 'NamedNode') {
      return resolveLicense({ url: term.value, title: this.text(term, T.title) ?? this.text(term, T.label) });
    }
    if (term.termType === 'Literal') {
      return resolveLicense(/^https?:\/\//i.test(term.value) ? { url: term.value } : { title: term.value });
    }
    const title = this.text(term as Quad_Subject, T.title) ?? this.text(term as Quad_Subject, T.label);
    return title ? resolveLicense({ title }) : undefined;
  }

  private publisher(node: Quad_Subject): HarvestedPublisher | undefined {
    for (const term of this.objects(node, T.publisher)) {
      if (term.termType === 'Literal') return { name: term.value };
      const agent = term as Quad_Subject;
      const name =
        this.text(agent, T.foafName) ??
        this.text(agent, T.vcardFn) ??
        this.text(agent, T.vcardOrganizationName) ??
        this.text(agent, T.prefLabel) ??
        this.text(agent, T.label);
      const id = agent.termType === 'NamedNode' ? agent.value : this.plain(agent, T.identifier);
      if (name || id) return withoutUndefined({ name, id });
    }
    return undefined;
  }

  private frequency(node: Quad_Subject) {
    for (const term of this.objects(node, T.accrualPeriodicity)) {
      const value = term.termType === 'BlankNode' ? this.plain(term, T.value) : term.value;
      const frequency = toFrequency(value);
      if (frequency) return frequency;
    }
    return undefined;
  }

  private temporal(node: Quad_Subject): HarvestedTemporal | undefined {
    for (const term of this.objects(node, T.temporal)) {
      let start: string | undefined;
      let end: string | undefined;
      if (term.termType === 'Literal') {
        // "2009-09-01T12:00:00Z/2010-05-31T12:00:00Z" (ISO 8601 interval)
        [start, end] = term.value.split('/').map((part) => toIsoDate(part));
      } else {
        const period = term as Quad_Subject;
        start = toIsoDate(this.plain(period, T.startDate) ?? this.plain(period, T.schemaStartDate));
        end = toIsoDate(this.plain(period, T.endDate) ?? this.plain(period, T.schemaEndDate));
      }
      if (start || end) return withoutUndefined({ start, end });
    }
    return undefined;
  }

  private spatial(node: Quad_Subject): HarvestedSpatial | undefined {
    const uris: string[] = [];
    let text: string | undefined;
    let geometry: HarvestedSpatial['geometry'];
    for (const term of this.objects(node, T.spatial)) {
      if (term.termType === 'Literal') {
        text ??= term.value;
        continue;
      }
      const place = term as Quad_Subject;
      if (place.termType === 'NamedNode') uris.push(place.value);
      text ??= this.text(place, T.prefLabel) ?? this.text(place, T.label) ?? this.text(place, T.geographicName);
      for (const literal of [...this.objects(place, T.geometry), ...this.objects(place, T.bbox)].filter(isLiteral)) {
        geometry ??= parseGeoJson(literal.value);
      }
    }
    if (!uris.length && !text && !geometry) return undefined;
    return withoutUndefined({ text, uris: uris.length ? uniqueStrings(uris) : undefined, geometry });
  }

  /** A literal in the preferred language (untagged first), for titles and descriptions. */
  text(node: Term, predicate: Term): string | undefined {
    const literals = this.objects(node as Quad_Subject, predicate).filter(isLiteral);
    const pick =
      literals.find((literal) => !literal.language) ??
      this.languages.map((language) => literals.find((literal) => literal.language.toLowerCase().startsWith(language))).find(Boolean) ??
      literals[0];
    return pick?.value.trim() || undefined;
  }

  /** Lexical value of the first literal or IRI. */
  private plain(node: Term, predicate: Term): string | undefined {
    const term = this.objects(node as Quad_Subject, predicate).find((object) => object.termType !== 'BlankNode');
    return term?.value.trim() || undefined;
  }

  /** http(s) URLs given as IRIs or as literals. */
  private urls(node: Quad_Subject, predicate: Term): string[] {
    return this.objects(node, predicate)
      .map((term) => (term.termType === 'BlankNode' ? undefined : toHttpUrl(term.value)))
      .filter((url): url is string => !!url);
  }

  /** The value of a term, looking inside a blank node for rdf:value/rdfs:label. */
  private valueOf(term: Term): string | undefined {
    if (term.termType !== 'BlankNode') return term.value;
    return this.plain(term, T.value) ?? this.text(term, T.label);
  }

  private objects(node: Term, predicate: Term): Quad_Object[] {
    return this.store.getObjects(node as Quad_Subject, predicate, null) as Quad_Object[];
  }

  firstValue(predicate: Term): string | undefined {
    const term = this.store.getObjects(null, predicate, null).find((object) => object.termType !== 'BlankNode');
    return term?.value;
  }

  firstNumber(predicate: Term): number | undefined {
    const value = Number(this.firstValue(predicate));
    return Number.isFinite(value) ? value : undefined;
  }
}

function isLiteral(term: Term): term is Literal {
  return term.termType === 'Literal';
}

function parseGeoJson(text: string): HarvestedSpatial['geometry'] {
  try {
    const value = JSON.parse(text) as HarvestedSpatial['geometry'];
    return value && typeof value === 'object' && typeof value.type === 'string' ? value : undefined;
  } catch {
    return undefined; // WKT and other encodings are not parsed
  }
}
