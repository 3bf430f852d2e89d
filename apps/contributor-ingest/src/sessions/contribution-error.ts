import { FieldError } from '@odb/validation';

/**
 * A refused contribution: 400 (with the problems), 401 (wrong session id) or
 * 404 (unknown connector). The HTTP controller and the NATS responder each
 * map it to their own error form.
 */
export class ContributionError extends Error {
  constructor(
    readonly code: 400 | 401 | 403 | 404,
    readonly errors: FieldError[] = [],
  ) {
    super(errors.length > 0 ? errors.map((error) => `${error.name}: ${error.reason}`).join('; ') : `contribution refused (${code})`);
    this.name = 'ContributionError';
  }
}
