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

/** A udata v1 dataset (`GET /api/1/datasets/{id}/`), the fields we read or write. */
export interface UdataDataset {
  id?: string;
  slug?: string;
  title?: string;
  description?: string;
  tags?: string[];
  license?: string | null;
  frequency?: string | null;
  temporal_coverage?: { start?: string | null; end?: string | null } | null;
  spatial?: { zones?: string[]; granularity?: string; geom?: HarvestedSpatial['geometry'] | null } | null;
  organization?: { id?: string; name?: string; slug?: string } | null;
  owner?: { id?: string; first_name?: string; last_name?: string } | null;
  private?: boolean;
  deleted?: string | null;
  archived?: string | null;
  created_at?: string;
  last_modified?: string;
  last_update?: string;
  page?: string;
  extras?: Record<string, unknown>;
  resources?: UdataResource[];
  [field: string]: unknown;
}

export interface UdataResource {
  id?: string;
  title?: string;
  description?: string;
  url?: string;
  type?: string;
  filetype?: string;
  format?: string;
  mime?: string | null;
  filesize?: number | null;
  extras?: Record<string, unknown>;
  [field: string]: unknown;
}

export type UdataNormalizeResult = { dataset: HarvestedDataset } | { skipped: SkippedDataset };

export function normalizeUdataDataset(remote: UdataDataset): UdataNormalizeResult {
  const remoteId = cleanText(remote.id);
  if (!remoteId) return { skipped: { reference: cleanText(remote.slug) ?? cleanText(remote.title) ?? '(unknown)', reason: 'dataset has no id' } };
  const title = cleanText(remote.title);
  if (!title) return { skipped: { reference: remoteId, reason: 'dataset has no title' } };
  const owner = remote.owner ? [remote.owner.first_name, remote.owner.last_name].filter(Boolean).join(' ') : undefined;
  const publisherName = cleanText(remote.organization?.name) ?? cleanText(owner);
  const publisherId = cleanText(remote.organization?.id) ?? cleanText(remote.owner?.id);
  const zones = uniqueStrings(remote.spatial?.zones ?? []);
  const geometry = remote.spatial?.geom ?? undefined;
  const start = toIsoDate(remote.temporal_coverage?.start ?? undefined);
  const end = toIsoDate(remote.temporal_coverage?.end ?? undefined);
  return {
    dataset: withoutUndefined({
      remoteId,
      title,
      description: cleanText(remote.description),
      keywords: uniqueStrings(remote.tags ?? []),
      license: remote.license ? resolveLicense({ id: remote.license }) : undefined,
      publisher: publisherName || publisherId ? withoutUndefined({ name: publisherName, id: publisherId }) : undefined,
      landingPage: toHttpUrl(remote.page),
      remoteUrl: toHttpUrl(remote.page),
      modified: toIsoDate(remote.last_update) ?? toIsoDate(remote.last_modified),
      issued: toIsoDate(remote.created_at),
      frequency: toFrequency(remote.frequency ?? undefined),
      temporal: start || end ? withoutUndefined({ start, end }) : undefined,
      spatial: zones.length || geometry ? withoutUndefined({ uris: zones.length ? zones : undefined, geometry }) : undefined,
      distributions: (remote.resources ?? []).flatMap((resource) => distributionOf(remoteId, resource)),
    }),
  };
}

function distributionOf(datasetId: string, resource: UdataResource): HarvestedDistribution[] {
  const url = cleanText(resource.url);
  if (!url) return [];
  const mediaType = toMediaType(resource.mime);
  return [
    withoutUndefined({
      remoteId: cleanText(resource.id) ?? derivedDistributionId(datasetId, url, resource.title),
      title: cleanText(resource.title),
      format: toFormat(resource.format, mediaType),
      mediaType,
      url,
      size: toByteSize(resource.filesize ?? undefined),
    }),
  ];
}
