import { createHash } from 'crypto';

/**
 * Small helpers shared by the normalizers. Remote catalogs send dates without
 * time zones, sizes with units, formats as media types or URIs; these turn
 * them into one shape or drop them (never throw on odd input).
 */

/** ISO 8601 instant (UTC) from the date forms catalogs send; undefined for anything unreadable. */
export function toIsoDate(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  if (typeof value !== 'string') return undefined;
  let text = value.trim();
  // "2019-09-30 22:00:00" (DKAN) → ISO with a T
  if (/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}/.test(text)) text = text.replace(' ', 'T');
  if (!/^\d{4}(-\d{2}(-\d{2})?)?([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(text)) return undefined;
  if (/^\d{4}$/.test(text)) text = `${text}-01-01`;
  else if (/^\d{4}-\d{2}$/.test(text)) text = `${text}-01`;
  // No zone given: read as UTC rather than the server's local time.
  if (/T\d{2}:\d{2}/.test(text) && !/(Z|[+-]\d{2}:?\d{2})$/.test(text)) text = `${text}Z`;
  // JavaScript keeps milliseconds only.
  text = text.replace(/(\.\d{3})\d+/, '$1');
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

/** Non-negative integer byte count from `12323`, `"147253.0"`, `"42 octets"`; undefined otherwise. */
export function toByteSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(bytes?|octets?|o|b)?\s*$/i.exec(value);
  return match ? Math.round(Number(match[1])) : undefined;
}

export function cleanText(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  return text ? text : undefined;
}

export function uniqueStrings(values: Iterable<unknown>): string[] {
  const seen = new Set<string>();
  for (const value of values) {
    const text = cleanText(value);
    if (text) seen.add(text);
  }
  return [...seen];
}

/** A distribution id that stays the same across runs when the remote gives none. */
export function derivedDistributionId(datasetId: string, url: string, title?: string): string {
  const digest = createHash('sha256').update(`${datasetId}\n${url}\n${title ?? ''}`).digest('hex');
  return `derived:${digest.slice(0, 20)}`;
}

const MEDIA_TYPE_FORMATS: Record<string, string> = {
  'text/csv': 'CSV',
  'application/json': 'JSON',
  'application/geo+json': 'GEOJSON',
  'application/vnd.geo+json': 'GEOJSON',
  'application/ld+json': 'JSON-LD',
  'application/xml': 'XML',
  'text/xml': 'XML',
  'application/rdf+xml': 'RDF',
  'text/turtle': 'TTL',
  'text/html': 'HTML',
  'application/pdf': 'PDF',
  'application/zip': 'ZIP',
  'application/vnd.ms-excel': 'XLS',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'XLSX',
  'application/vnd.google-earth.kml+xml': 'KML',
  'application/gml+xml': 'GML',
  'application/x-parquet': 'PARQUET',
  'application/vnd.apache.parquet': 'PARQUET',
};

/** Media type from a literal or an IANA URI (`https://www.iana.org/assignments/media-types/text/csv`). */
export function toMediaType(value: unknown): string | undefined {
  const text = cleanText(value);
  if (!text) return undefined;
  const iana = /iana\.org\/assignments\/media-types\/(.+)$/i.exec(text);
  const candidate = (iana ? iana[1] : text).toLowerCase();
  return /^[a-z0-9.+-]+\/[a-z0-9.+-]+$/.test(candidate) ? candidate : undefined;
}

/**
 * Short upper-case format name from what remotes put in "format": `csv`,
 * `CSV`, `text/csv`, an EU file-type URI (`…/file-type/GEOJSON`), an IANA URI.
 */
export function toFormat(value: unknown, mediaType?: string): string | undefined {
  const text = cleanText(value);
  if (text) {
    const euFileType = /\/file-type\/([A-Za-z0-9_.-]+)$/.exec(text);
    if (euFileType) return euFileType[1].toUpperCase();
    const asMediaType = toMediaType(text);
    if (asMediaType) return MEDIA_TYPE_FORMATS[asMediaType] ?? asMediaType.split('/')[1].toUpperCase();
    if (!/^https?:/i.test(text)) return text.replace(/^\./, '').toUpperCase();
  }
  return mediaType ? MEDIA_TYPE_FORMATS[mediaType] : undefined;
}

/** Only absolute http(s) URLs are kept as links. */
export function toHttpUrl(value: unknown): string | undefined {
  const text = cleanText(value);
  if (!text || !/^https?:\/\//i.test(text)) return undefined;
  try {
    return new URL(text).toString();
  } catch {
    return undefined;
  }
}

export function stripHtml(text: string | undefined): string | undefined {
  return text?.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim() || undefined;
}

/** Drops keys whose value is undefined, so normalized objects compare and serialize cleanly. */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}
