import type { Request } from 'express';
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
