import { once } from 'events';
import { Readable } from 'stream';
import { parse } from 'csv-parse';
import { JSONParser } from '@streamparser/json';

export type ResourceKind = 'csv' | 'json' | 'geojson';

/** One row of a data resource: its values, and a GeoJSON feature's own id when it has one. */
export interface SourceRow {
  values: Record<string, unknown>;
  featureId?: string;
  /** 1-based position in the resource (line of data for CSV, element for JSON). */
  position: number;
}

/** What kind of data a distribution holds, from its format, media type or file extension; undefined when not one we read. */
export function resourceKind(distribution: { format?: string; mediaType?: string; url: string }): ResourceKind | undefined {
  const format = (distribution.format ?? '').toLowerCase();
  const mediaType = (distribution.mediaType ?? '').toLowerCase();
  let path = '';
  try {
    path = new URL(distribution.url).pathname.toLowerCase();
  } catch {
    return undefined;
  }
  if (format.includes('geojson') || mediaType.includes('geo+json') || path.endsWith('.geojson')) return 'geojson';
  if (format === 'csv' || format === 'text/csv' || mediaType.includes('csv') || path.endsWith('.csv')) return 'csv';
  if (format === 'json' || mediaType === 'application/json' || path.endsWith('.json')) return 'json';
  return undefined;
}

/**
 * The rows of a resource, streamed, in batches: the rows parsed from each
 * chunk of the body, so that the per-row work stays synchronous (a promise
 * per row, over millions of rows, costs more than parsing them).
 */
export function readRows(kind: ResourceKind, body: Readable): AsyncIterable<SourceRow[]> {
  return kind === 'csv' ? csvRows(body) : jsonRows(body);
}

/**
 * CSV rows as objects keyed by the header (csv-parse; back-pressure reaches
 * the socket, as the body is read one chunk per batch). The delimiter is
 * sniffed from the header line (`,`, `;`, tab or `|`); a BOM is dropped; rows
 * with missing or extra fields are read as far as they go.
 */
export async function* csvRows(body: Readable): AsyncGenerator<SourceRow[]> {
  let parser: ReturnType<typeof parse> | undefined;
  let ended: Promise<unknown> | undefined;
  let head = Buffer.alloc(0);
  const ready: SourceRow[] = [];
  let position = 0;
  const start = (first: Buffer) => {
    const started = csvParser(first);
    started.on('data', (record: Record<string, unknown>) => ready.push({ values: record, position: ++position }));
    ended = once(started, 'end');
    ended.catch(() => undefined); // awaited below; an error before then is thrown from there
    return started;
  };
  try {
    for await (const chunk of body) {
      let buffer: Buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      if (!parser) {
        // The delimiter is sniffed from the whole header line, however the body is chunked.
        head = Buffer.concat([head, buffer]);
        if (!head.includes(0x0a) && head.length < HEADER_SNIFF_BYTES) continue;
        [buffer, head] = [head, Buffer.alloc(0)];
        parser = start(buffer);
      }
      if (!parser.write(buffer)) await Promise.race([once(parser, 'drain'), ended]);
      if (ready.length > 0) yield ready.splice(0, ready.length);
    }
    if (!parser && head.length > 0) (parser = start(head)).write(head);
    if (!parser) return;
    parser.end();
    await ended;
    if (ready.length > 0) yield ready.splice(0, ready.length);
  } finally {
    body.destroy();
    parser?.destroy();
  }
}

const HEADER_SNIFF_BYTES = 64 * 1024;

function csvParser(head: Buffer) {
  return parse({
    delimiter: sniffDelimiter(head.subarray(0, HEADER_SNIFF_BYTES).toString('utf8').split(/\r?\n/, 1)[0]),
    columns: (header: string[]) => uniqueColumns(header),
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    trim: false,
  });
}

/**
 * JSON rows, streamed: the elements of a top-level array, or the features of
 * a GeoJSON FeatureCollection (properties plus `geometry`), or the elements
 * of a top-level `data`, `results` or `records` array.
 */
export async function* jsonRows(body: Readable): AsyncGenerator<SourceRow[]> {
  let parser: JSONParser | undefined;
  const ready: SourceRow[] = [];
  let failure: Error | undefined;
  let position = 0;
  try {
    for await (const chunk of body) {
      const buffer: Buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      if (!parser) {
        const start = buffer.toString('utf8', 0, Math.min(buffer.length, 1024)).replace(/^\uFEFF/, '').trimStart();
        if (start.length === 0) continue;
        const paths = start.startsWith('[') ? ['$.*'] : ['$.features.*', '$.data.*', '$.results.*', '$.records.*'];
        parser = new JSONParser({ paths, keepStack: false });
        parser.onValue = ({ value }) => {
          position += 1;
          ready.push(toRow(value, position));
        };
        parser.onError = (error) => (failure = error);
      }
      parser.write(buffer);
      if (failure) throw failure;
      if (ready.length > 0) yield ready.splice(0, ready.length);
    }
    if (parser && !parser.isEnded) parser.end();
    if (failure) throw failure;
    if (ready.length > 0) yield ready.splice(0, ready.length);
  } finally {
    body.destroy();
  }
}

function toRow(value: unknown, position: number): SourceRow {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    if (object.type === 'Feature') {
      const properties = object.properties && typeof object.properties === 'object' ? (object.properties as Record<string, unknown>) : {};
      const featureId = typeof object.id === 'string' || typeof object.id === 'number' ? String(object.id) : undefined;
      return { values: { ...properties, geometry: object.geometry ?? null }, featureId, position };
    }
    return { values: object, position };
  }
  return { values: { value }, position };
}

function sniffDelimiter(headerLine: string): string {
  let best = ',';
  let bestCount = 0;
  for (const candidate of [',', ';', '\t', '|']) {
    const count = headerLine.split(candidate).length - 1;
    if (count > bestCount) {
      best = candidate;
      bestCount = count;
    }
  }
  return best;
}

/** Header names as keys: trimmed, empty ones named `column_<n>`, repeated ones suffixed. */
function uniqueColumns(header: string[]): string[] {
  const used = new Set<string>();
  return header.map((raw, index) => {
    let name = String(raw ?? '').trim() || `column_${index + 1}`;
    for (let n = 2; used.has(name); n += 1) name = `${String(raw).trim() || 'column'}_${n}`;
    used.add(name);
    return name;
  });
}
