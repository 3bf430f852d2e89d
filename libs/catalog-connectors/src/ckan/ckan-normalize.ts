import type {
  HarvestedDataset,
  HarvestedDistribution,
  HarvestedSpatial,
  HarvestedTemporal,
  SkippedDataset,
} from '../adapter';
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

/** A CKAN package dictionary as `package_show`/`package_search` return it (only what we read). */
export interface CkanPackage {
  id?: string;
  name?: string;
  title?: string;
  notes?: string;
  url?: string;
  state?: string;
  private?: boolean;
  license_id?: string | null;
  license_title?: string | null;
  license_url?: string | null;
  metadata_created?: string;
  metadata_modified?: string;
  author?: string | null;
  maintainer?: string | null;
  owner_org?: string | null;
  organization?: { id?: string; name?: string; title?: string } | null;
  tags?: Array<{ name?: string; display_name?: string } | string>;
  extras?: Array<{ key: string; value: unknown }> | Record<string, unknown>;
  resources?: CkanResource[];
  [field: string]: unknown;
}

export interface CkanResource {
  id?: string;
  name?: string;
  description?: string;
  url?: string;
  format?: string;
  mimetype?: string | null;
  size?: number | string | null;
  [field: string]: unknown;
}

export type NormalizeResult = { dataset: HarvestedDataset } | { skipped: SkippedDataset };

/**
 * CKAN package → HarvestedDataset. Reads the core schema, the DCAT-AP fields
 * ckanext-dcat adds (`issued`, `frequency`, `temporal_coverage`, `publisher`…)
 * and the legacy extras other harvesters leave (`frequency-of-update`,
 * `temporal_coverage-from`, `spatial`, `dcat_publisher_name`…). DKAN's
 * variants (list-shaped results, plain-string tags) are accepted too.
 */
export function normalizeCkanPackage(pkg: CkanPackage, options: { portalUrl?: string } = {}): NormalizeResult {
  const remoteId = cleanText(pkg.id) ?? cleanText(pkg.name);
  if (!remoteId) return { skipped: { reference: cleanText(pkg.title) ?? '(unnamed package)', reason: 'package has no id nor name' } };
  const title = cleanText(pkg.title) ?? cleanText(pkg.name);
  if (!title) return { skipped: { reference: remoteId, reason: 'package has no title' } };
  const extras = extrasOf(pkg);
  const portalUrl = options.portalUrl?.replace(/\/+$/, '');

  const dataset: HarvestedDataset = {
    remoteId,
    title,
    description: cleanText(pkg.notes),
    keywords: uniqueStrings((pkg.tags ?? []).map((tag) => (typeof tag === 'string' ? tag : tag.name ?? tag.display_name))),
    license: resolveLicense({
      id: cleanText(pkg.license_id ?? undefined),
      title: cleanText(pkg.license_title ?? undefined),
      url: cleanText(pkg.license_url ?? undefined),
    }),
    publisher: publisherOf(pkg, extras),
    landingPage: toHttpUrl(pkg.url),
    remoteUrl: portalUrl && (pkg.name || pkg.id) ? `${portalUrl}/dataset/${pkg.name ?? pkg.id}` : undefined,
    modified: toIsoDate(pkg.metadata_modified) ?? toIsoDate(pkg.modified) ?? toIsoDate(extras.dcat_modified),
    issued: toIsoDate(pkg.issued) ?? toIsoDate(extras.dcat_issued) ?? toIsoDate(pkg.metadata_created),
    frequency: toFrequency(
      firstText(pkg.frequency, extras.frequency, extras['frequency-of-update'], extras.accrual_periodicity, extras.update_frequency),
    ),
    temporal: temporalOf(pkg, extras),
    spatial: spatialOf(pkg, extras),
    distributions: (pkg.resources ?? []).flatMap((resource) => distributionOf(remoteId, resource)),
  };
  return { dataset: withoutUndefined(dataset) };
}

/** `package_show` result, which DKAN wraps in a one-element list. */
export function unwrapPackage(result: unknown): CkanPackage | undefined {
  const pkg = Array.isArray(result) ? result[0] : result;
  return pkg && typeof pkg === 'object' ? (pkg as CkanPackage) : undefined;
}

export function extrasOf(pkg: CkanPackage): Record<string, unknown> {
  if (Array.isArray(pkg.extras)) {
    return Object.fromEntries(pkg.extras.filter((extra) => extra && typeof extra.key === 'string').map((extra) => [extra.key, extra.value]));
  }
  return pkg.extras && typeof pkg.extras === 'object' ? pkg.extras : {};
}

function publisherOf(pkg: CkanPackage, extras: Record<string, unknown>): HarvestedDataset['publisher'] {
  const dcatPublisher = Array.isArray(pkg.publisher) ? (pkg.publisher[0] as Record<string, unknown>) : undefined;
  const name = firstText(
    pkg.organization?.title,
    pkg.organization?.name,
    dcatPublisher?.name,
    extras.dcat_publisher_name,
    extras.publisher_name,
    pkg.maintainer,
    pkg.author,
  );
  const id = firstText(pkg.organization?.name, pkg.owner_org, dcatPublisher?.identifier, dcatPublisher?.uri);
  return name || id ? { name, id } : undefined;
}

function temporalOf(pkg: CkanPackage, extras: Record<string, unknown>): HarvestedTemporal | undefined {
  const coverage = Array.isArray(pkg.temporal_coverage) ? (pkg.temporal_coverage as Array<Record<string, unknown>>) : [];
  // Several periods (DCAT-AP): their envelope.
  const starts = coverage.map((period) => toIsoDate(period.start)).filter(Boolean) as string[];
  const ends = coverage.map((period) => toIsoDate(period.end)).filter(Boolean) as string[];
  const start =
    starts.sort()[0] ??
    toIsoDate(pkg.temporal_start) ??
    toIsoDate(extras.temporal_start) ??
    toIsoDate(firstOfJsonList(extras['temporal_coverage-from']));
  const end =
    ends.sort().at(-1) ??
    toIsoDate(pkg.temporal_end) ??
    toIsoDate(extras.temporal_end) ??
    toIsoDate(firstOfJsonList(extras['temporal_coverage-to']));
  return start || end ? withoutUndefined({ start, end }) : undefined;
}

function spatialOf(pkg: CkanPackage, extras: Record<string, unknown>): HarvestedSpatial | undefined {
  const coverage = Array.isArray(pkg.spatial_coverage) ? (pkg.spatial_coverage[0] as Record<string, unknown>) : undefined;
  const geometry = asGeometry(coverage?.geom) ?? asGeometry(extras.spatial) ?? asGeometry(pkg.spatial) ?? bboxGeometry(extras);
  const text = firstText(coverage?.text, extras.spatial_text, typeof pkg.spatial === 'string' && !geometry ? pkg.spatial : undefined);
  const uris = uniqueStrings([coverage?.uri, extras.spatial_uri]);
  if (!geometry && !text && uris.length === 0) return undefined;
  return withoutUndefined({ text, uris: uris.length ? uris : undefined, geometry });
}

function distributionOf(datasetId: string, resource: CkanResource): HarvestedDistribution[] {
  const url = cleanText(resource.url) ?? cleanText(resource.access_url) ?? cleanText(resource.download_url);
  if (!url) return [];
  const mediaType = toMediaType(resource.mimetype) ?? toMediaType(resource.format);
  return [
    withoutUndefined({
      remoteId: cleanText(resource.id) ?? derivedDistributionId(datasetId, url, resource.name),
      title: cleanText(resource.name) ?? cleanText(resource.description),
      format: toFormat(resource.format, mediaType) ?? undefined,
      mediaType,
      url,
      size: toByteSize(resource.size ?? undefined),
    }),
  ];
}

function asGeometry(value: unknown): HarvestedSpatial['geometry'] {
  let candidate = value;
  if (typeof value === 'string') {
    try {
      candidate = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (candidate && typeof candidate === 'object' && typeof (candidate as { type?: unknown }).type === 'string') {
    return candidate as HarvestedSpatial['geometry'];
  }
  return undefined;
}

/** The `bbox-*` extras of the spatial harvester, as a polygon. */
function bboxGeometry(extras: Record<string, unknown>): HarvestedSpatial['geometry'] {
  const [west, south, east, north] = ['bbox-west-long', 'bbox-south-lat', 'bbox-east-long', 'bbox-north-lat'].map((key) =>
    Number(extras[key]),
  );
  if (![west, south, east, north].every(Number.isFinite) || extras['bbox-west-long'] === undefined) return undefined;
  return {
    type: 'Polygon',
    coordinates: [[[west, south], [east, south], [east, north], [west, north], [west, south]]],
  };
}

function firstOfJsonList(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    const parsed = JSON.parse(value);
    return Array.isArray(parsed) ? parsed[0] : parsed;
  } catch {
    return value;
  }
}

function firstText(...values: unknown[]): string | undefined {
  for (const value of values) {
    const text = cleanText(value);
    if (text) return text;
  }
  return undefined;
}
