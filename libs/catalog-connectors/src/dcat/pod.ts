import type { HarvestedDataset, HarvestedDistribution, HarvestedSpatial, SkippedDataset } from '../adapter';
import {
  cleanText,
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
import type { DcatPageContent } from './dcat-extract';

/**
 * Project Open Data / DCAT-US `data.json` (ArcGIS Hub, DKAN, Socrata, data.gov):
 * a JSON schema whose `@context` is a remote URL and whose field names are
 * defined by the schema rather than by RDF. Read as JSON: faithful, and no
 * remote context to fetch.
 */
export function isPodCatalog(document: unknown): document is PodCatalog {
  if (!document || typeof document !== 'object' || Array.isArray(document)) return false;
  const catalog = document as Record<string, unknown>;
  if (!Array.isArray(catalog.dataset)) return false;
  const mentionsPod = [catalog.conformsTo, catalog['@context'], catalog.describedBy].some(
    (value) => typeof value === 'string' && /project-open-data|resources\.data\.gov\/schemas\/dcat-us/i.test(value),
  );
  return mentionsPod || catalog['@context'] === undefined;
}

export interface PodCatalog {
  title?: string;
  dataset: PodDataset[];
}

interface PodDataset {
  '@id'?: string;
  identifier?: string;
  title?: string;
  description?: string;
  keyword?: string[] | string;
  license?: string;
  rights?: string;
  publisher?: { name?: string } | string;
  landingPage?: string;
  modified?: string;
  issued?: string;
  accrualPeriodicity?: string;
  temporal?: string;
  spatial?: string;
  distribution?: PodDistribution[];
}

interface PodDistribution {
  identifier?: string;
  title?: string;
  format?: string;
  mediaType?: string;
  downloadURL?: string;
  accessURL?: string;
  byteSize?: number | string;
}

export function extractPodCatalog(catalog: PodCatalog): DcatPageContent {
  const datasets: HarvestedDataset[] = [];
  const skipped: SkippedDataset[] = [];
  for (const [index, entry] of catalog.dataset.entries()) {
    const result = podDataset(entry ?? {});
    if ('dataset' in result) datasets.push(result.dataset);
    else skipped.push({ ...result.skipped, reference: result.skipped.reference || `dataset #${index + 1}` });
  }
  return { catalogTitle: cleanText(catalog.title), datasets, skipped, totalItems: catalog.dataset.length };
}

function podDataset(entry: PodDataset): { dataset: HarvestedDataset } | { skipped: SkippedDataset } {
  const remoteId = cleanText(entry.identifier) ?? cleanText(entry['@id']);
  if (!remoteId) return { skipped: { reference: cleanText(entry.title) ?? '', reason: 'dataset has no identifier' } };
  const title = cleanText(entry.title);
  if (!title) return { skipped: { reference: remoteId, reason: 'dataset has no title' } };
  const publisherName = typeof entry.publisher === 'string' ? cleanText(entry.publisher) : cleanText(entry.publisher?.name);
  const license = cleanText(entry.license);
  const [start, end] = (cleanText(entry.temporal) ?? '').split('/').map((part) => toIsoDate(part));
  const landingPage = toHttpUrl(entry.landingPage);
  return {
    dataset: withoutUndefined({
      remoteId,
      title,
      description: cleanText(entry.description),
      keywords: uniqueStrings(Array.isArray(entry.keyword) ? entry.keyword : [entry.keyword]),
      license: license ? resolveLicense(/^https?:\/\/\S+$/i.test(license) ? { url: license } : { title: license }) : undefined,
      publisher: publisherName ? { name: publisherName } : undefined,
      landingPage,
      remoteUrl: landingPage,
      modified: toIsoDate(entry.modified),
      issued: toIsoDate(entry.issued),
      frequency: toFrequency(entry.accrualPeriodicity),
      temporal: start || end ? withoutUndefined({ start, end }) : undefined,
      spatial: podSpatial(entry.spatial),
      distributions: (entry.distribution ?? []).flatMap((distribution) => podDistribution(remoteId, distribution ?? {})),
    }),
  };
}

function podDistribution(datasetId: string, distribution: PodDistribution): HarvestedDistribution[] {
  const url = toHttpUrl(distribution.downloadURL) ?? toHttpUrl(distribution.accessURL);
  if (!url) return [];
  const mediaType = toMediaType(distribution.mediaType);
  const title = cleanText(distribution.title);
  return [
    withoutUndefined({
      remoteId: cleanText(distribution.identifier) ?? derivedDistributionId(datasetId, url, title),
      title,
      format: toFormat(distribution.format, mediaType),
      mediaType,
      url,
      size: toByteSize(distribution.byteSize),
    }),
  ];
}

/** POD `spatial` is a place name, a "west,south,east,north" box, or GeoJSON. */
function podSpatial(value: string | undefined): HarvestedSpatial | undefined {
  const text = cleanText(value);
  if (!text) return undefined;
  const box = text.split(',').map(Number);
  if (box.length === 4 && box.every(Number.isFinite)) {
    const [west, south, east, north] = box;
    return { geometry: { type: 'Polygon', coordinates: [[[west, south], [east, south], [east, north], [west, north], [west, south]]] } };
  }
  if (text.startsWith('{')) {
    try {
      const geometry = JSON.parse(text) as HarvestedSpatial['geometry'];
      if (geometry?.type) return { geometry };
    } catch {
      // a place name that starts with a brace: keep it as text
    }
  }
  return { text };
}
