import type { Request } from 'express';
import { isDeepStrictEqual } from 'util';
import { FieldError } from '@odb/validation';
import { ApiError } from '@odb/platform';

/** A request body as an object of unknown fields (absent or non-object bodies read as {}). */
export type Body = Record<string, any>;

export function bodyOf(request: Request): Body {
  const body = request.body as unknown;
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Body) : {};
}

/** Throws the API's 400 when there is any problem: validation always comes before existence. */
export function rejectInvalid(errors: FieldError[]): void {
  if (errors.length > 0) throw ApiError.badRequest(errors);
}

/** PostgreSQL unique_violation: a concurrent request created the same thing first. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: string; driverError?: { code?: string } })?.code ?? (error as { driverError?: { code?: string } })?.driverError?.code;
  return code === '23505';
}

/**
 * The properties of `next` whose values differ from `current`'s, for the `changed`
 * list of update events. Deep and independent of key order: PostgreSQL's jsonb
 * does not keep the key order of the document it was given.
 */
export function changedProperties<T extends object>(current: Partial<T>, next: T): Array<keyof T & string> {
  return (Object.keys(next) as Array<keyof T & string>).filter((key) => !isDeepStrictEqual(current[key], next[key]));
}
