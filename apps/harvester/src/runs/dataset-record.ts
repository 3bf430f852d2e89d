import { createHash } from 'crypto';
import type { HarvestedDataset, HarvestedDistribution } from '@odb/catalog-connectors';
import type { ContributedRecord } from '@odb/contracts';

/** Bumped when the mapping below changes, so that every record is written again once. */
const MAPPING_VERSION = 1;
const MAX_ID = 256;

/**
 * One remote dataset as one record of the target entity type (metadata
 * mode): the vendor id is the remote identifier, so re-harvests update in
 * place; the entity holds the normalized metadata.
 */
export function datasetRecord(dataset: HarvestedDataset, catalog: string): ContributedRecord {
  const entity = {
    ...describedBy(dataset),
    spatial: dataset.spatial,
    distributions: dataset.distributions.map(distributionMetadata),
    remote_id: dataset.remoteId,
    catalog,
  };
  return { id: vendorId(dataset.remoteId), name: recordName(dataset.title, dataset.remoteId), entity: withoutUndefined(entity) };
}

/** The normalized metadata of a remote dataset, as records and harvested entity types hold it. */
export function describedBy(dataset: HarvestedDataset) {
  return {
    title: dataset.title,
    description: dataset.description,
    keywords: dataset.keywords,
    license: dataset.license,
    publisher: dataset.publisher,
    landing_page: dataset.landingPage,
    remote_url: dataset.remoteUrl,
    modified: dataset.modified,
    issued: dataset.issued,
    frequency: dataset.frequency,
    temporal: dataset.temporal,
  };
}

export function distributionMetadata(distribution: HarvestedDistribution) {
  return {
    id: distribution.remoteId,
    title: distribution.title,
    format: distribution.format,
    media_type: distribution.mediaType,
    url: distribution.url,
    size: distribution.size,
  };
}

/** The remote id itself when it fits BitBroker's 256 characters, else a stable digest of it (the entity keeps the full id). */
export function vendorId(remoteId: string): string {
  return remoteId.length <= MAX_ID ? remoteId : `sha1:${createHash('sha1').update(remoteId).digest('hex')}`;
}

export function recordName(title: string | undefined, fallback: string): string {
  const text = (title ?? '').replace(/\s+/g, ' ').trim() || fallback;
  return text.length > MAX_ID ? `${text.slice(0, MAX_ID - 1)}…` : text;
}

/** Digest of what would be written: equal digests mean nothing to write. */
export function contentHash(value: unknown): string {
  return createHash('sha1').update(`${MAPPING_VERSION}:`).update(JSON.stringify(value)).digest('hex');
}

/** A copy without undefined members (what JSON would keep), so digests do not depend on them. */
export function withoutUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
