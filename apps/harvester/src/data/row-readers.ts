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

export function readRows(kind: ResourceKind, body: Readable): AsyncIterable<SourceRow> {
  return kind === 'csv' ? csvRows(body) : jsonRows(body);
}

/**
 * CSV rows as objects keyed by the header, streamed (csv-parse; back-pressure
 * reaches the socket). The delimiter is sniffed from the header line (`,`,
 * `;`, tab or `|`); a BOM is dropped; rows with missing or extra fields are
 * read as far as they go.
 */
export async function* csvRows(body: Readable): AsyncGenerator<SourceRow> {
  const chunks = body[Symbol.asyncIterator]();
  const first = await chunks.next();
  if (first.done) return;
  const head = Buffer.isBuffer(first.value) ? first.value : Buffer.from(first.value);
  const parser = parse({
    delimiter: sniffDelimiter(head.subarray(0, 64 * 1024).toString('utf8').split(/\r?\n/, 1)[0]),
    columns: (header: string[]) => uniqueColumns(header),
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    trim: false,
  });
  const feeding = (async () => {
    if (!parser.write(head)) await once(parser, 'drain');
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
      if (!parser.write(next.value)) await once(parser, 'drain');
    }
    parser.end();
  })().catch((error: Error) => parser.destroy(error));
  let position = 0;
  try {
    for await (const record of parser) {
      position += 1;
      yield { values: record as Record<string, unknown>, position };
    }
  } finally {
    body.destroy();
    await feeding;
  }
}

/**
 * JSON rows, streamed: the elements of a top-level array, or the features of
 * a GeoJSON FeatureCollection (properties plus `geometry`), or the elements
 * of a top-level `data`, `results` or `records` array.
 */
export async function* jsonRows(body: Readable): AsyncGenerator<SourceRow> {
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
      yield* ready.splice(0, ready.length);
    }
    if (parser && !parser.isEnded) parser.end();
    if (failure) throw failure;
    yield* ready.splice(0, ready.length);
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
