import { Readable } from 'stream';
import { Page, RecordRow } from './catalog-reader';

/**
 * CSV (RFC 4180): fields separated by commas, records by CRLF, a field quoted
 * when it holds a comma, a quote, CR or LF, quotes doubled inside quotes.
 * UTF-8, header row first.
 *
 * Values: strings as they are; numbers and booleans in their JSON form;
 * null and missing values as empty fields; objects and arrays as JSON text.
 * A string that a spreadsheet would run as a formula (starting with `=`, `+`,
 * `-`, `@`, tab or CR) gets a leading `'` (OWASP's advice against CSV
 * injection: the data comes from contributors, the spreadsheet is the
 * consumer's).
 */
export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8; header=present';

const NEEDS_QUOTES = /[",\r\n]/;
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvField(value: unknown): string {
  let text: string;
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') text = FORMULA_START.test(value) ? `'${value}` : value;
  else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
  else text = JSON.stringify(value) ?? '';
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: readonly unknown[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

export interface CsvExport {
  columns: string[];
  /** File name offered to browsers (Content-Disposition). */
  filename: string;
  /** Other response headers (rate limits, legal context). */
  headers: Record<string, string>;
  /** Records to export: all of them when undefined. */
  limit?: number;
  offset: number;
  batchSize: number;
  /** Reads one batch: the first with `offset`, the next ones after the last record's id (keyset). */
  read: (page: Page) => Promise<RecordRow[]>;
  row: (record: RecordRow) => unknown[];
}

/** A CSV answer: its headers, and its body as a stream to send. */
export interface CsvAnswer {
  headers: Record<string, string>;
  body: Readable;
}

/**
 * An export read batch by batch: never more than one batch in memory, and the
 * next one is read only once the client has taken the previous one (the
 * stream is pulled as the socket drains). The first batch is read before
 * anything is sent, so a failure there is still a proper error answer; a
 * failure later cuts the connection (a truncated chunked body, which clients
 * report as an error). A client that goes away stops the reading.
 */
export async function csvExport(csv: CsvExport): Promise<CsvAnswer> {
  let remaining = csv.limit ?? Number.POSITIVE_INFINITY;
  const first = await csv.read({ offset: csv.offset, limit: Math.min(csv.batchSize, remaining) });
  async function* chunks(): AsyncGenerator<string> {
    yield csvLine(csv.columns);
    for (let batch = first; ; ) {
      remaining -= batch.length;
      if (batch.length > 0) yield batch.map((record) => csvLine(csv.row(record))).join('');
      const last = batch[batch.length - 1];
      if (remaining <= 0 || batch.length < csv.batchSize || !last) return;
      batch = await csv.read({ offset: 0, limit: Math.min(csv.batchSize, remaining), after: last.id });
      if (batch.length === 0) return;
    }
  }
  return {
    headers: {
      ...csv.headers,
      'Content-Type': CSV_CONTENT_TYPE,
      'Content-Disposition': `attachment; filename="${csv.filename}"`,
      'Cache-Control': 'no-store',
    },
    body: Readable.from(chunks(), { objectMode: false }),
  };
}
