import { HttpException, HttpStatus } from '@nestjs/common';

/** One entry of a 400 body: BitBroker's RFC 7807-like item with an array index. */
export interface FieldError {
  name: string;
  index: number | null;
  reason: string;
}

/**
 * Errors of the public APIs. The exception filter turns each into the BitBroker
 * envelope `{"error":{"code","status","message"}}`.
 */
export class ApiError extends HttpException {
  /** Extra response headers (e.g. Retry-After on a 429). */
  headers: Record<string, string> = {};

  static badRequest(errors: FieldError[]): ApiError {
    return new ApiError(errors, HttpStatus.BAD_REQUEST);
  }

  static field(name: string, reason: string, index: number | null = null): ApiError {
    return ApiError.badRequest([{ name, index, reason }]);
  }

  static unauthorized(): ApiError {
    return new ApiError('', HttpStatus.UNAUTHORIZED);
  }

  static forbidden(): ApiError {
    return new ApiError('', HttpStatus.FORBIDDEN);
  }

  static notFound(): ApiError {
    return new ApiError('', HttpStatus.NOT_FOUND);
  }

  static conflict(): ApiError {
    return new ApiError('', HttpStatus.CONFLICT);
  }

  static tooManyRequests(headers: Record<string, string> = {}): ApiError {
    const error = new ApiError('', HttpStatus.TOO_MANY_REQUESTS);
    error.headers = headers;
    return error;
  }

  static methodNotAllowed(message = ''): ApiError {
    return new ApiError(message, HttpStatus.METHOD_NOT_ALLOWED);
  }
}
