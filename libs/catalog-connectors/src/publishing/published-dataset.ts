import type { PublishedDatasetMetadata, PublishedResource } from '../adapter';
import { findLicense } from '../vocabularies/licenses';
import { DatasetMetadata } from './dataset-metadata';

/** What the platform knows of an entity type when it publishes it. */
export interface PublishableEntityType {
  slug: string;
  name: string;
  description: string;
  tags: string[];
  metadata: DatasetMetadata;
  /** Names of the live connectors (the sources consumers see), in a stable order. */
  liveSources: string[];
}

export interface PublicationTarget {
  visibility: 'public' | 'private';
  /** Public base URL of the Consumer API, e.g. `https://data.example.org/consumer/v1`. */
  consumerApiUrl: string;
}

/** Extras that record the platform's own facts on the remote dataset. */
export const PUBLISHED_EXTRAS = {
  liveSources: 'odb_live_sources',
} as const;

/**
 * The remote dataset for an entity type: its metadata, and resources that link
 * back to this platform (the data stays here): the Consumer API endpoint of
 * the type, its CSV export and the OpenAPI document of the Consumer API.
 * Extras use the names ckanext-dcat reads (`contact_email`, `publisher_name`,
 * `spatial`…), so a CKAN with DCAT exports them.
 */
export function buildPublishedDataset(type: PublishableEntityType, target: PublicationTarget): PublishedDatasetMetadata {
  const base = target.consumerApiUrl.replace(/\/+$/, '');
  const typeUrl = `${base}/entity/${encodeURIComponent(type.slug)}`;
  const metadata = type.metadata;
  const resources: PublishedResource[] = [
    {
      key: 'api',
      title: `${type.name} (Consumer API, JSON)`,
      description: 'Records of this dataset through the Consumer API (a consumer key is required).',
      url: typeUrl,
      format: 'json',
      mediaType: 'application/json',
      type: 'api',
    },
    {
      key: 'csv',
      title: `${type.name} (CSV export)`,
      description: 'Records of this dataset as CSV, through the Consumer API (a consumer key is required).',
      url: `${typeUrl}?format=csv`,
      format: 'csv',
      mediaType: 'text/csv',
      type: 'main',
    },
    {
      key: 'openapi',
      title: 'Consumer API (OpenAPI document)',
      description: 'Machine-readable description of the Consumer API.',
      url: `${base}/openapi.json`,
      format: 'json',
      mediaType: 'application/vnd.oai.openapi+json',
      type: 'documentation',
    },
  ];
  const extras: Record<string, string> = {};
  if (type.liveSources.length > 0) extras[PUBLISHED_EXTRAS.liveSources] = type.liveSources.join(', ');
  if (metadata.publisher?.name) extras.publisher_name = metadata.publisher.name;
  if (metadata.publisher?.url) extras.publisher_url = metadata.publisher.url;
  if (metadata.publisher?.email) {
    extras.contact_email = metadata.publisher.email;
    if (metadata.publisher.name) extras.contact_name = metadata.publisher.name;
  }
  if (typeof metadata.spatial === 'string') extras.spatial_text = metadata.spatial;
  else if (metadata.spatial) extras.spatial = JSON.stringify(metadata.spatial);

  const license = metadata.license;
  const known = findLicense(license?.id);
  return {
    localId: type.slug,
    title: type.name,
    description: type.description,
    keywords: [...new Set([...type.tags, ...(metadata.keywords ?? [])])],
    ...(license ? { license: known ? { id: known.id, title: known.title, url: known.url } : { url: license.url, title: license.title } } : {}),
    ...(metadata.frequency ? { frequency: metadata.frequency } : {}),
    ...(metadata.temporal ? { temporal: { ...metadata.temporal } } : {}),
    ...(metadata.landing_page ? { landingPage: metadata.landing_page } : {}),
    private: target.visibility === 'private',
    resources,
    extras,
  };
}
