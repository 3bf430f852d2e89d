import { createHash } from 'crypto';
import { PolicyDocument } from '@odb/persistence';
import { ResourceUrls } from '@odb/platform';
import { RecordRow, TypeRow } from './catalog-reader';

export type Legal = PolicyDocument['legal_context'];

const BBK_LINK = /^[bB][bB][kK]:\/\/([a-z0-9][a-z0-9-]+)\/([a-z0-9][a-z0-9-]+)\/([^/]+)$/;

export function typeBrief(urls: ResourceUrls, type: TypeRow) {
  return { id: type.slug, url: urls.to('entity', type.slug), name: type.name, description: type.description };
}

export function instanceBrief(urls: ResourceUrls, row: RecordRow, legal: Legal) {
  return { id: row.public_id, url: urls.to('entity', row.type, row.public_id), type: row.type, name: row.document.name, legal };
}

/**
 * The full instance: webhook extras merged in (shallow), then the policy's
 * field masks, then `bbk://type/contribution/vendor` links rewritten to this
 * API's URLs; the legal context last.
 */
export function instanceFull(
  urls: ResourceUrls,
  row: RecordRow,
  legal: Legal,
  masks: string[] = [],
  extra?: unknown,
) {
  const entity: Record<string, unknown> = { ...(row.document.entity ?? {}) };
  const instance: Record<string, unknown> = { ...(row.document.instance ?? {}) };
  const timeseries: Record<string, Record<string, unknown>> = {};
  for (const [tsid, definition] of Object.entries(row.document.timeseries ?? {})) {
    timeseries[tsid] = { ...definition, url: urls.to('entity', row.type, row.public_id, 'timeseries', tsid) };
  }
  if (isObject(extra)) {
    if (isObject(extra.entity)) Object.assign(entity, extra.entity);
    if (isObject(extra.instance)) Object.assign(instance, extra.instance);
  }
  const sections: Record<string, Record<string, unknown>> = { entity, instance };
  for (const mask of masks) {
    const parts = typeof mask === 'string' ? mask.trim().split('.') : [];
    if (parts.length !== 3) continue;
    const [type, section, field] = parts;
    if (type === row.type && (section === 'entity' || section === 'instance') && field) delete sections[section][field];
  }
  return {
    id: row.public_id,
    url: urls.to('entity', row.type, row.public_id),
    type: row.type,
    name: row.document.name,
    entity: rewriteLinks(urls, entity),
    instance: rewriteLinks(urls, instance),
    timeseries,
    legal,
  };
}

/** Rewrites every `bbk://` string, however deep, to the URL of the record it names. */
export function rewriteLinks<T>(urls: ResourceUrls, value: T): T {
  if (typeof value === 'string') {
    const match = BBK_LINK.exec(value);
    if (!match) return value;
    const publicId = createHash('sha1').update(`${match[2]}:${match[3]}`).digest('hex');
    return urls.to('entity', match[1], publicId) as T;
  }
  if (Array.isArray(value)) return value.map((item) => rewriteLinks(urls, item)) as T;
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, rewriteLinks(urls, item)])) as T;
  }
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
