import { Writer } from 'n3';
import { findLicense, parseRdf, readDatasetMetadata, toEuFrequencyUri } from '@odb/catalog-connectors';
import { DcatTypeRow } from './dcat-reader';

/** Prefixes of the JSON-LD context and of the Turtle output. */
export const DCAT_PREFIXES = {
  dcat: 'http://www.w3.org/ns/dcat#',
  dct: 'http://purl.org/dc/terms/',
  foaf: 'http://xmlns.com/foaf/0.1/',
  vcard: 'http://www.w3.org/2006/vcard/ns#',
  hydra: 'http://www.w3.org/ns/hydra/core#',
  locn: 'http://www.w3.org/ns/locn#',
  skos: 'http://www.w3.org/2004/02/skos/core#',
  gsp: 'http://www.opengis.net/ont/geosparql#',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
} as const;

const EU_FILE_TYPE = 'http://publications.europa.eu/resource/authority/file-type/';
const EU_ACCESS_RIGHT = 'http://publications.europa.eu/resource/authority/access-right/';
const IANA_MEDIA_TYPE = 'https://www.iana.org/assignments/media-types/';

type Node = Record<string, unknown>;

export interface CatalogPage {
  /** Public base URL of the Consumer API, e.g. `https://data.example.org/v1`. */
  base: string;
  /** The requested page (1-based) and size, the total number of datasets. */
  page: number;
  pageSize: number;
  total: number;
  /** `ttl` when the client asked by query parameter: page links keep it. */
  format?: string;
  types: DcatTypeRow[];
}

/**
 * The platform's catalog as DCAT-AP, in JSON-LD: a `dcat:Catalog` that is
 * also a `hydra:Collection` paged by a `hydra:PartialCollectionView`
 * (first/last/next/previous, as udata exposes it), one `dcat:Dataset` per
 * entity type with its publishing metadata, two distributions (records as
 * JSON through the Consumer API, CSV export) and the Consumer API as the
 * `dcat:DataService` serving them (its OpenAPI document as endpoint
 * description). Access needs a consumer key: distributions say
 * `RESTRICTED`, the metadata itself is public.
 */
export function buildCatalogDocument(page: CatalogPage): Node {
  const catalogUrl = `${page.base}/dcat/catalog`;
  const lastPage = Math.max(1, Math.ceil(page.total / page.pageSize));
  const pageUrl = (number: number) => {
    const query = new URLSearchParams({ page: String(number), page_size: String(page.pageSize) });
    if (page.format) query.set('format', page.format);
    return `${catalogUrl}?${query}`;
  };
  const service = dataService(page.base, page.types.map((type) => datasetIri(page.base, type.slug)));
  const view: Node = {
    '@id': pageUrl(page.page),
    '@type': 'hydra:PartialCollectionView',
    'hydra:first': { '@id': pageUrl(1) },
    'hydra:last': { '@id': pageUrl(lastPage) },
    ...(page.page < lastPage ? { 'hydra:next': { '@id': pageUrl(page.page + 1) } } : {}),
    ...(page.page > 1 ? { 'hydra:previous': { '@id': pageUrl(Math.min(page.page - 1, lastPage)) } } : {}),
  };
  return {
    '@context': DCAT_PREFIXES,
    '@id': catalogUrl,
    '@type': ['dcat:Catalog', 'hydra:Collection'],
    'dct:title': 'Open Data Broker catalog',
    'dct:description': 'Datasets served by this platform through its Consumer API (a consumer key is required to read records).',
    'dct:publisher': { '@id': `${catalogUrl}#publisher`, '@type': 'foaf:Agent', 'foaf:name': 'Open Data Broker', 'foaf:homepage': { '@id': page.base } },
    'foaf:homepage': { '@id': page.base },
    'hydra:totalItems': page.total,
    'hydra:view': view,
    'dcat:service': service,
    'dcat:dataset': page.types.map((type) => datasetNode(page.base, type)),
  };
}

/** One dataset alone (what its IRI answers). */
export function buildDatasetDocument(base: string, type: DcatTypeRow): Node {
  return { '@context': DCAT_PREFIXES, ...datasetNode(base, type) };
}

export function datasetIri(base: string, slug: string): string {
  return `${base}/dcat/dataset/${encodeURIComponent(slug)}`;
}

function datasetNode(base: string, type: DcatTypeRow): Node {
  const metadata = readDatasetMetadata(type.dataset_metadata);
  const keywords = [...new Set([...(Array.isArray(type.tags) ? type.tags : []), ...(metadata.keywords ?? [])])];
  const node: Node = {
    '@id': datasetIri(base, type.slug),
    '@type': 'dcat:Dataset',
    'dct:identifier': type.slug,
    'dct:title': type.name,
    'dct:description': type.description,
    'dct:issued': dateTime(type.created_at),
    'dct:modified': dateTime(type.updated_at),
    ...(keywords.length ? { 'dcat:keyword': keywords } : {}),
  };
  const frequency = toEuFrequencyUri(metadata.frequency);
  if (frequency) node['dct:accrualPeriodicity'] = { '@id': frequency };
  if (metadata.temporal) {
    node['dct:temporal'] = {
      '@type': 'dct:PeriodOfTime',
      ...(metadata.temporal.start ? { 'dcat:startDate': dateLiteral(metadata.temporal.start) } : {}),
      ...(metadata.temporal.end ? { 'dcat:endDate': dateLiteral(metadata.temporal.end) } : {}),
    };
  }
  if (typeof metadata.spatial === 'string') node['dct:spatial'] = { '@type': 'dct:Location', 'skos:prefLabel': metadata.spatial };
  else if (metadata.spatial) {
    node['dct:spatial'] = { '@type': 'dct:Location', 'locn:geometry': { '@value': JSON.stringify(metadata.spatial), '@type': 'gsp:geoJSONLiteral' } };
  }
  const publisher = metadata.publisher;
  if (publisher?.name || publisher?.url) {
    node['dct:publisher'] = {
      '@type': 'foaf:Agent',
      ...(publisher.name ? { 'foaf:name': publisher.name } : {}),
      ...(publisher.url ? { 'foaf:homepage': { '@id': publisher.url } } : {}),
    };
  }
  if (publisher?.email) {
    node['dcat:contactPoint'] = {
      '@type': 'vcard:Kind',
      ...(publisher.name ? { 'vcard:fn': publisher.name } : {}),
      'vcard:hasEmail': { '@id': `mailto:${publisher.email}` },
    };
  }
  if (metadata.landing_page) node['dcat:landingPage'] = { '@id': metadata.landing_page };
  node['dcat:distribution'] = distributions(base, type);
  return node;
}

function distributions(base: string, type: DcatTypeRow): Node[] {
  const metadata = readDatasetMetadata(type.dataset_metadata);
  const licenseUrl = findLicense(metadata.license?.id)?.url ?? metadata.license?.url;
  const typeUrl = `${base}/entity/${encodeURIComponent(type.slug)}`;
  const common = {
    '@type': 'dcat:Distribution',
    'dct:accessRights': { '@id': `${EU_ACCESS_RIGHT}RESTRICTED` },
    'dcat:accessService': { '@id': `${base}/dcat/catalog#consumer-api` },
    ...(licenseUrl ? { 'dct:license': { '@id': licenseUrl } } : {}),
  };
  return [
    {
      '@id': `${datasetIri(base, type.slug)}#json`,
      ...common,
      'dct:title': `${type.name} (Consumer API, JSON)`,
      'dcat:accessURL': { '@id': typeUrl },
      'dct:format': { '@id': `${EU_FILE_TYPE}JSON` },
      'dcat:mediaType': { '@id': `${IANA_MEDIA_TYPE}application/json` },
    },
    {
      '@id': `${datasetIri(base, type.slug)}#csv`,
      ...common,
      'dct:title': `${type.name} (CSV export)`,
      'dcat:accessURL': { '@id': `${typeUrl}?format=csv` },
      'dcat:downloadURL': { '@id': `${typeUrl}?format=csv` },
      'dct:format': { '@id': `${EU_FILE_TYPE}CSV` },
      'dcat:mediaType': { '@id': `${IANA_MEDIA_TYPE}text/csv` },
    },
  ];
}

function dataService(base: string, datasets: string[]): Node {
  return {
    '@id': `${base}/dcat/catalog#consumer-api`,
    '@type': 'dcat:DataService',
    'dct:title': 'Consumer API',
    'dcat:endpointURL': { '@id': base },
    'dcat:endpointDescription': { '@id': `${base}/openapi.json` },
    'dct:accessRights': { '@id': `${EU_ACCESS_RIGHT}RESTRICTED` },
    ...(datasets.length ? { 'dcat:servesDataset': datasets.map((id) => ({ '@id': id })) } : {}),
  };
}

function dateTime(value: Date | string): Node {
  return { '@value': new Date(value).toISOString(), '@type': 'xsd:dateTime' };
}

/** `2020-01-01` stays an xsd:date, an instant becomes an xsd:dateTime. */
function dateLiteral(value: string): Node {
  return /^\d{4}-\d\d-\d\d$/.test(value) ? { '@value': value, '@type': 'xsd:date' } : dateTime(value);
}

/** The same graph in Turtle (through RDF, so both serializations say exactly the same). */
export async function toTurtle(document: Node, baseIri: string): Promise<string> {
  const store = await parseRdf(JSON.stringify(document), 'jsonld', baseIri);
  const writer = new Writer({ prefixes: DCAT_PREFIXES });
  writer.addQuads(store.getQuads(null, null, null, null));
  return new Promise((resolve, reject) => writer.end((error, result) => (error ? reject(error) : resolve(result))));
}
