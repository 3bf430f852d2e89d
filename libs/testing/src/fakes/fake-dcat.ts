import { DataFactory, Quad, Writer } from 'n3';
import { FakeHttpServer, FakeRequest, FakeResponse } from './fake-http-server';

const { namedNode, literal, blankNode, quad } = DataFactory;

export type FakeDcatFormat = 'jsonld' | 'turtle' | 'rdfxml';

export interface FakeDcatDistribution {
  title?: string;
  url: string;
  format?: string;
  mediaType?: string;
  byteSize?: number;
}

export interface FakeDcatDataset {
  identifier: string;
  /** Node IRI; a blank node when absent. */
  uri?: string;
  title: string;
  description?: string;
  keywords?: string[];
  publisher?: string;
  modified?: string;
  issued?: string;
  /** License IRI. */
  license?: string;
  /** Frequency IRI (DC or EU NAL). */
  accrualPeriodicity?: string;
  landingPage?: string;
  distributions?: FakeDcatDistribution[];
}

const NS = {
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  dcat: 'http://www.w3.org/ns/dcat#',
  dct: 'http://purl.org/dc/terms/',
  foaf: 'http://xmlns.com/foaf/0.1/',
  hydra: 'http://www.w3.org/ns/hydra/core#',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
};

const CONTENT_TYPES: Record<FakeDcatFormat, string> = {
  jsonld: 'application/ld+json',
  turtle: 'text/turtle',
  rdfxml: 'application/rdf+xml',
};

const EXTENSIONS: Record<FakeDcatFormat, string> = { jsonld: 'jsonld', turtle: 'ttl', rdfxml: 'rdf' };

/**
 * A DCAT feed: `/catalog.jsonld`, `/catalog.ttl`, `/catalog.rdf` serve the
 * seeded datasets in that serialization, paged with hydra when `pageSize` is
 * set (`?page=N`, as udata's PartialCollectionView or ckanext-dcat's
 * PagedCollection). Any other document can be served verbatim at a path
 * (e.g. recorded catalogs) with `serveDocument`.
 */
export class FakeDcat extends FakeHttpServer {
  readonly datasets: FakeDcatDataset[] = [];
  readonly documents = new Map<string, { body: string; contentType: string }>();
  /** Datasets per page; 0 serves everything on one page. */
  pageSize = 0;
  paging: 'partial-collection' | 'paged-collection' = 'partial-collection';
  /** Serve page 1 whatever page is asked (a server that ignores the paging parameter). */
  ignorePageParameter = false;
  catalogTitle = 'Fake DCAT catalog';

  addDataset(dataset: FakeDcatDataset): FakeDcatDataset {
    this.datasets.push(dataset);
    return dataset;
  }

  generate(count: number, options: { keywords?: string[]; publisher?: string } = {}): FakeDcatDataset[] {
    const created: FakeDcatDataset[] = [];
    for (let i = 1; i <= count; i += 1) {
      const number = String(i).padStart(4, '0');
      created.push(
        this.addDataset({
          identifier: `fake-${number}`,
          uri: `https://data.example.org/datasets/fake-${number}`,
          title: `Generated dataset ${number}`,
          description: `Description of generated dataset ${number}`,
          keywords: options.keywords ?? ['generated'],
          publisher: options.publisher ?? 'Fake publisher',
          modified: new Date(Date.UTC(2024, 0, 1) + i * 86_400_000).toISOString(),
          license: 'https://www.etalab.gouv.fr/licence-ouverte-open-licence/',
          accrualPeriodicity: 'http://publications.europa.eu/resource/authority/frequency/MONTHLY',
          distributions: [{ title: `CSV ${number}`, url: `https://files.example.org/${number}.csv`, format: 'CSV', mediaType: 'text/csv' }],
        }),
      );
    }
    return created;
  }

  /** Serves `body` verbatim at `path` (query string ignored unless part of the key). */
  serveDocument(path: string, body: string, contentType: string): void {
    this.documents.set(path, { body, contentType });
  }

  /** URL of the generated catalog in a serialization. */
  catalogUrl(format: FakeDcatFormat = 'jsonld'): string {
    return `${this.url}/catalog.${EXTENSIONS[format]}`;
  }

  protected handle(request: FakeRequest): FakeResponse {
    const document = this.documents.get(`${request.path}${request.url.search}`) ?? this.documents.get(request.path);
    if (document) return { status: 200, headers: { 'content-type': document.contentType }, body: document.body };
    const match = /^\/catalog\.(jsonld|ttl|rdf)$/.exec(request.path);
    if (!match) return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'not found' };
    const format = (Object.entries(EXTENSIONS).find(([, ext]) => ext === match[1])?.[0] ?? 'jsonld') as FakeDcatFormat;
    const requested = Number(request.query.get('page') ?? '1');
    const page = this.ignorePageParameter || !Number.isInteger(requested) || requested < 1 ? 1 : requested;
    const quads = this.pageQuads(format, page);
    return { status: 200, headers: { 'content-type': `${CONTENT_TYPES[format]}; charset=utf-8` }, body: serialize(quads, format) };
  }

  private pageQuads(format: FakeDcatFormat, page: number): Quad[] {
    const base = this.catalogUrl(format);
    const pageCount = this.pageSize > 0 ? Math.max(1, Math.ceil(this.datasets.length / this.pageSize)) : 1;
    const slice = this.pageSize > 0 ? this.datasets.slice((page - 1) * this.pageSize, page * this.pageSize) : this.datasets;
    const catalog = namedNode(`${this.url}/catalog`);
    const quads: Quad[] = [
      quad(catalog, namedNode(`${NS.rdf}type`), namedNode(`${NS.dcat}Catalog`)),
      quad(catalog, namedNode(`${NS.dct}title`), literal(this.catalogTitle)),
    ];
    slice.forEach((dataset, index) => quads.push(...datasetQuads(catalog, dataset, `p${page}d${index}`)));
    if (this.pageSize > 0) quads.push(...hydraQuads(this.paging, catalog, base, page, pageCount, this.datasets.length, this.pageSize));
    return quads;
  }
}

function datasetQuads(catalog: ReturnType<typeof namedNode>, dataset: FakeDcatDataset, blankPrefix: string): Quad[] {
  const node = dataset.uri ? namedNode(dataset.uri) : blankNode(blankPrefix);
  const quads: Quad[] = [
    quad(catalog, namedNode(`${NS.dcat}dataset`), node),
    quad(node, namedNode(`${NS.rdf}type`), namedNode(`${NS.dcat}Dataset`)),
    quad(node, namedNode(`${NS.dct}identifier`), literal(dataset.identifier)),
    quad(node, namedNode(`${NS.dct}title`), literal(dataset.title)),
  ];
  const add = (predicate: string, object: Quad['object']) => quads.push(quad(node, namedNode(predicate), object));
  if (dataset.description) add(`${NS.dct}description`, literal(dataset.description));
  for (const keyword of dataset.keywords ?? []) add(`${NS.dcat}keyword`, literal(keyword));
  if (dataset.modified) add(`${NS.dct}modified`, literal(dataset.modified, namedNode(`${NS.xsd}dateTime`)));
  if (dataset.issued) add(`${NS.dct}issued`, literal(dataset.issued, namedNode(`${NS.xsd}dateTime`)));
  if (dataset.license) add(`${NS.dct}license`, namedNode(dataset.license));
  if (dataset.accrualPeriodicity) add(`${NS.dct}accrualPeriodicity`, namedNode(dataset.accrualPeriodicity));
  if (dataset.landingPage) add(`${NS.dcat}landingPage`, namedNode(dataset.landingPage));
  if (dataset.publisher) {
    const publisher = blankNode(`${blankPrefix}pub`);
    add(`${NS.dct}publisher`, publisher);
    quads.push(quad(publisher, namedNode(`${NS.rdf}type`), namedNode(`${NS.foaf}Organization`)));
    quads.push(quad(publisher, namedNode(`${NS.foaf}name`), literal(dataset.publisher)));
  }
  (dataset.distributions ?? []).forEach((distribution, index) => {
    const node = blankNode(`${blankPrefix}dist${index}`);
    add(`${NS.dcat}distribution`, node);
    const put = (predicate: string, object: Quad['object']) => quads.push(quad(node, namedNode(predicate), object));
    put(`${NS.rdf}type`, namedNode(`${NS.dcat}Distribution`));
    put(`${NS.dcat}downloadURL`, namedNode(distribution.url));
    put(`${NS.dcat}accessURL`, namedNode(distribution.url));
    if (distribution.title) put(`${NS.dct}title`, literal(distribution.title));
    if (distribution.format) put(`${NS.dct}format`, literal(distribution.format));
    if (distribution.mediaType) put(`${NS.dcat}mediaType`, literal(distribution.mediaType));
    if (distribution.byteSize !== undefined) put(`${NS.dcat}byteSize`, literal(String(distribution.byteSize), namedNode(`${NS.xsd}decimal`)));
  });
  return quads;
}

function hydraQuads(
  style: 'partial-collection' | 'paged-collection',
  catalog: ReturnType<typeof namedNode>,
  base: string,
  page: number,
  pageCount: number,
  total: number,
  pageSize: number,
): Quad[] {
  const pageIri = (number: number) => namedNode(`${base}?page=${number}`);
  const h = (local: string) => namedNode(`${NS.hydra}${local}`);
  const integer = (value: number) => literal(String(value), namedNode(`${NS.xsd}integer`));
  const type = namedNode(`${NS.rdf}type`);
  if (style === 'paged-collection') {
    const node = pageIri(page);
    const quads = [
      quad(node, type, h('PagedCollection')),
      quad(node, h('firstPage'), pageIri(1)),
      quad(node, h('lastPage'), pageIri(pageCount)),
      quad(node, h('totalItems'), integer(total)),
      quad(node, h('itemsPerPage'), integer(pageSize)),
    ];
    if (page < pageCount) quads.push(quad(node, h('nextPage'), pageIri(page + 1)));
    if (page > 1) quads.push(quad(node, h('previousPage'), pageIri(page - 1)));
    return quads;
  }
  const view = pageIri(page);
  const quads = [
    quad(catalog, type, h('Collection')),
    quad(catalog, h('totalItems'), integer(total)),
    quad(catalog, h('view'), view),
    quad(view, type, h('PartialCollectionView')),
    quad(view, h('first'), pageIri(1)),
    quad(view, h('last'), pageIri(pageCount)),
  ];
  if (page < pageCount) quads.push(quad(view, h('next'), pageIri(page + 1)));
  if (page > 1) quads.push(quad(view, h('previous'), pageIri(page - 1)));
  return quads;
}

function serialize(quads: Quad[], format: FakeDcatFormat): string {
  if (format === 'turtle') {
    const writer = new Writer({ prefixes: { dcat: NS.dcat, dct: NS.dct, foaf: NS.foaf, hydra: NS.hydra, xsd: NS.xsd } });
    writer.addQuads(quads);
    let output = '';
    writer.end((error, result) => {
      if (error) throw error;
      output = result;
    });
    return output;
  }
  if (format === 'jsonld') return JSON.stringify(toExpandedJsonLd(quads), null, 1);
  return toRdfXml(quads);
}

/** Flat expanded JSON-LD: one node object per subject (the "flat" style of udata's fixtures). */
function toExpandedJsonLd(quads: Quad[]): unknown[] {
  const nodes = new Map<string, Record<string, unknown[]>>();
  const idOf = (term: Quad['subject'] | Quad['object']) => (term.termType === 'BlankNode' ? `_:${term.value}` : term.value);
  for (const { subject, predicate, object } of quads) {
    const id = idOf(subject);
    const node = nodes.get(id) ?? { '@id': [id] };
    nodes.set(id, node);
    if (predicate.value === `${NS.rdf}type`) {
      (node['@type'] ??= []).push(object.value);
      continue;
    }
    const value =
      object.termType === 'Literal'
        ? object.datatype.value === `${NS.xsd}string` || object.datatype.value.endsWith('#langString')
          ? { '@value': object.value, ...(object.language ? { '@language': object.language } : {}) }
          : { '@value': object.value, '@type': object.datatype.value }
        : { '@id': idOf(object) };
    (node[predicate.value] ??= []).push(value);
  }
  return [...nodes.values()].map(({ '@id': [id], ...rest }) => ({ '@id': id, ...rest }));
}

function toRdfXml(quads: Quad[]): string {
  const namespaces = new Map<string, string>([[NS.rdf, 'rdf']]);
  const split = (iri: string) => {
    const cut = Math.max(iri.lastIndexOf('#'), iri.lastIndexOf('/')) + 1;
    const ns = iri.slice(0, cut);
    if (!namespaces.has(ns)) namespaces.set(ns, `ns${namespaces.size}`);
    return `${namespaces.get(ns)}:${iri.slice(cut)}`;
  };
  const bySubject = new Map<string, Quad[]>();
  for (const item of quads) {
    const key = `${item.subject.termType}|${item.subject.value}`;
    bySubject.set(key, [...(bySubject.get(key) ?? []), item]);
  }
  const descriptions: string[] = [];
  for (const group of bySubject.values()) {
    const subject = group[0].subject;
    const about = subject.termType === 'BlankNode' ? `rdf:nodeID="${escapeXml(subject.value)}"` : `rdf:about="${escapeXml(subject.value)}"`;
    const properties = group.map(({ predicate, object }) => {
      const name = split(predicate.value);
      if (object.termType === 'NamedNode') return `    <${name} rdf:resource="${escapeXml(object.value)}"/>`;
      if (object.termType === 'BlankNode') return `    <${name} rdf:nodeID="${escapeXml(object.value)}"/>`;
      const literalTerm = object as ReturnType<typeof literal>;
      const attributes = literalTerm.language
        ? ` xml:lang="${literalTerm.language}"`
        : literalTerm.datatype.value !== `${NS.xsd}string`
          ? ` rdf:datatype="${escapeXml(literalTerm.datatype.value)}"`
          : '';
      return `    <${name}${attributes}>${escapeXml(object.value)}</${name}>`;
    });
    descriptions.push(`  <rdf:Description ${about}>\n${properties.join('\n')}\n  </rdf:Description>`);
  }
  const xmlns = [...namespaces].map(([iri, prefix]) => `xmlns:${prefix}="${escapeXml(iri)}"`).join('\n  ');
  return `<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF\n  ${xmlns}>\n${descriptions.join('\n')}\n</rdf:RDF>\n`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
