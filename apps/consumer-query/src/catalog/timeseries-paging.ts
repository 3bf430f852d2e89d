import { BbkValidator, FieldError } from '@odb/validation';

export interface TimeseriesPaging {
  start?: string;
  end?: string;
  limit: number;
}

const validator = new BbkValidator();

/**
 * Validates `start`, `end`, `duration` (seconds) and `limit` (1–500, default
 * 500) as BitBroker does, and turns them into what the webhook receives:
 * full ISO-8601 `start` and `end` (a duration becomes an end) and `limit`.
 */
export function timeseriesPaging(query: Record<string, unknown>): { paging: TimeseriesPaging; errors: FieldError[] } {
  const start = text(query.start);
  const end = text(query.end);
  const duration = text(query.duration) !== undefined ? parseFloat(text(query.duration)!) : undefined;
  const limit = text(query.limit) !== undefined ? parseFloat(text(query.limit)!) : 500;
  const raw = { start, end, duration, limit };
  const errors = validator.check(
    Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined)),
    'timeseriesPaging',
  );
  const startDate = start !== undefined ? isoDate(start) : undefined;
  const endDate = end !== undefined ? isoDate(end) : undefined;
  if (start !== undefined && !startDate) errors.push({ name: 'start', index: null, reason: 'is not valid ISO-8601 date format' });
  if (end !== undefined && !endDate) errors.push({ name: 'end', index: null, reason: 'is not valid ISO-8601 date format' });
  if (end !== undefined && start === undefined) errors.push(paging('You cannot specify an end without a start'));
  if (duration !== undefined && start === undefined) errors.push(paging('You cannot specify a duration without a start'));
  if (end !== undefined && duration !== undefined) errors.push(paging('You cannot specify both an end and a duration'));
  if (startDate && endDate && endDate.getTime() <= startDate.getTime()) {
    errors.push(paging('You cannot specify an end which is at or before the start'));
  }
  const result: TimeseriesPaging = { limit };
  if (startDate) result.start = startDate.toISOString();
  if (endDate) result.end = endDate.toISOString();
  if (startDate && duration !== undefined && Number.isFinite(duration)) result.end = new Date(startDate.getTime() + duration * 1000).toISOString();
  return { paging: result, errors };
}

function paging(reason: string): FieldError {
  return { name: 'paging', index: null, reason };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A real calendar date in one of the ISO-8601 forms the pattern allows (2021, 2021-02, 2021-02-28T10:00Z…), else undefined. */
function isoDate(value: string): Date | undefined {
  const match = /^(\d{4})(?:-(\d\d)(?:-(\d\d)(?:T(\d\d):(\d\d)(?::(\d\d))?(\.\d+)?(Z|[+-]\d\d:\d\d)?)?)?)?$/.exec(value);
  if (!match) return undefined;
  const [, year, month = '01', day = '01', hour = '00', minute = '00', second = '00'] = match;
  const monthNumber = Number(month);
  const dayNumber = Number(day);
  const check = new Date(Date.UTC(Number(year), monthNumber - 1, dayNumber));
  if (monthNumber < 1 || monthNumber > 12 || check.getUTCDate() !== dayNumber) return undefined;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return undefined;
  // Without a zone, BitBroker (moment) read the time in the server's zone, UTC in deployments.
  const date = match[4] !== undefined ? new Date(match[8] ? value : `${value}Z`) : check;
  return Number.isNaN(date.getTime()) ? undefined : date;
}
