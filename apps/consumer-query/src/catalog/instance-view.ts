import { recordPublicId } from '@odb/contracts';
import { PolicyDocument } from '@odb/persistence';
import { ResourceUrls } from '@odb/platform';
import { BriefRow, RecordRow, TypeRow } from './catalog-reader';

export type Legal = PolicyDocument['legal_context'];

const BBK_LINK = /^[bB][bB][kK]:\/\/([a-z0-9][a-z0-9-]+)\/([a-z0-9][a-z0-9-]+)\/([^/]+)$/;

export function typeBrief(urls: ResourceUrls, type: TypeRow) {
  return { id: type.slug, url: urls.to('entity', type.slug), name: type.name, description: type.description };
}

/**
 * A page of instance briefs (`[{id, url, type, name, legal}]`) as JSON text,
 * written straight from the rows: `name` is the record's (the same as its
 * document's: contributor-ingest writes both from the record); `legal` is
 * left out when the policy has none (open mode). Public ids are hex; the rest
 * is escaped, the parts that depend on the type once per type.
 * Building the text in PostgreSQL (json_agg) cost it 1.5 ms a page of 250;
 * this costs Node a tenth of that.
 */
export function instanceBriefsJson(urls: ResourceUrls, rows: BriefRow[], legal: Legal | undefined): string {
  const legalJson = legal === undefined ? '' : `,"legal":${JSON.stringify(legal)}`;
  // Per type: the URL up to the public id, and the type field, as JSON text.
  const typeParts = new Map<string, [string, string]>();
  let json = '[';
  for (let i = 0; i < rows.length; i += 1) {
    const { public_id: id, type, name } = rows[i];
    let parts = typeParts.get(type);
    if (parts === undefined) {
      parts = [JSON.stringify(urls.to('entity', type, '')).slice(0, -1), `,"type":${JSON.stringify(type)}`];
      typeParts.set(type, parts);
    }
    json += `${i === 0 ? '{' : ',{'}"id":"${id}","url":${parts[0]}${id}"${parts[1]},"name":${JSON.stringify(name)}${legalJson}}`;
  }
  return `${json}]`;
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
  applyMasks(row.type, { entity, instance }, masks);
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

/**
 * Field masks `<type>.<section>.<field>`: removes top-level `field` from
 * `section` (`entity` or `instance`) of records of `type`; badly formed masks
 * are ignored (BitBroker's rules).
 */
export function applyMasks(type: string, sections: { entity?: Record<string, unknown>; instance?: Record<string, unknown> }, masks: unknown[] = []): void {
  for (const mask of masks) {
    const parts = typeof mask === 'string' ? mask.trim().split('.') : [];
    if (parts.length !== 3) continue;
    const [maskType, section, field] = parts;
    if (maskType === type && (section === 'entity' || section === 'instance') && field) delete sections[section]?.[field];
  }
}

/** The entity fields a policy's masks hide for one type. */
export function maskedFields(type: string, section: 'entity' | 'instance', masks: unknown[] = []): Set<string> {
  const hidden = new Set<string>();
  for (const mask of masks) {
    const parts = typeof mask === 'string' ? mask.trim().split('.') : [];
    if (parts.length === 3 && parts[0] === type && parts[1] === section && parts[2]) hidden.add(parts[2]);
  }
  return hidden;
}

/**
 * CSV of `GET /entity/:type`: id, url, type, name, then one column per
 * top-level property the type's schema declares (alphabetical, less the masked ones), or a
 * single `entity` column (JSON) when it declares none. `bbk://` links are
 * rewritten as in the full instance; nested values are JSON.
 */
export function entityCsv(urls: ResourceUrls, type: string, declared: string[], masks: unknown[] = []) {
  const hidden = maskedFields(type, 'entity', masks);
  const properties = declared.filter((property) => !hidden.has(property));
  const whole = declared.length === 0;
  return {
    columns: ['id', 'url', 'type', 'name', ...(whole ? ['entity'] : properties)],
    row: (row: RecordRow): unknown[] => {
      const entity = isObject(row.document.entity) ? row.document.entity : {};
      const base = [row.public_id, urls.to('entity', row.type, row.public_id), row.type, row.document.name];
      if (whole) {
        const shown = { ...entity };
        applyMasks(row.type, { entity: shown }, masks);
        return [...base, rewriteLinks(urls, shown)];
      }
      return [...base, ...properties.map((property) => rewriteLinks(urls, entity[property]))];
    },
  };
}

/** CSV of `GET /catalog`: id, url, type, name, entity and instance (JSON, masks applied, links rewritten). */
export function catalogCsv(urls: ResourceUrls, masks: unknown[] = []) {
  return {
    columns: ['id', 'url', 'type', 'name', 'entity', 'instance'],
    row: (row: RecordRow): unknown[] => {
      const entity = { ...(isObject(row.document.entity) ? row.document.entity : {}) };
      const instance = { ...(isObject(row.document.instance) ? row.document.instance : {}) };
      applyMasks(row.type, { entity, instance }, masks);
      return [row.public_id, urls.to('entity', row.type, row.public_id), row.type, row.document.name, rewriteLinks(urls, entity), rewriteLinks(urls, instance)];
    },
  };
}

/** Rewrites every `bbk://` string, however deep, to the URL of the record it names. */
export function rewriteLinks<T>(urls: ResourceUrls, value: T): T {
  if (typeof value === 'string') {
    const match = BBK_LINK.exec(value);
    if (!match) return value;
    return urls.to('entity', match[1], recordPublicId(match[2], match[3])) as T;
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
