import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { STATUS_CODES } from 'http';
import { ApiError, FieldError } from './api-error';

/** Statuses whose message is always empty in BitBroker's envelope. */
const SILENT = new Set([401, 403, 404, 405, 409]);

interface BodyParserError {
  type?: string;
  status?: number;
  message?: string;
  limit?: number;
}

/**
 * Every error leaves in one envelope: `{"error":{"code","status","message"}}`,
 * 400 messages as `[{name,index,reason}]`, unknown errors as 500 with the
 * message only outside production, logged with the request id.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiExceptionFilter');

  constructor(private readonly production: boolean) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const request = http.getRequest<Request & { id?: string }>();
    const { code, message } = this.describe(exception, request);
    if (response.headersSent) return;
    if (exception instanceof ApiError) response.set(exception.headers);
    response.status(code).json({ error: { code, status: STATUS_CODES[code] ?? 'Error', message } });
  }

  private describe(exception: unknown, request: Request & { id?: string }): { code: number; message: unknown } {
    if (exception instanceof HttpException) {
      const code = exception.getStatus();
      if (code === 400) return { code, message: toFieldErrors(exception.getResponse()) };
      if (SILENT.has(code)) return { code, message: '' };
      const body = exception.getResponse();
      return { code, message: typeof body === 'string' ? body : ((body as { message?: unknown }).message ?? '') };
    }
    const parserError = exception as BodyParserError;
    if (parserError?.type === 'entity.parse.failed') {
      return { code: 400, message: [{ name: 'syntax', index: null, reason: parserError.message ?? 'invalid JSON' }] };
    }
    if (parserError?.type === 'entity.too.large') {
      return { code: 413, message: `request body larger than the ${parserError.limit ?? ''} bytes allowed`.replace('  ', ' ') };
    }
    if (parserError?.type && parserError.status && parserError.status >= 400 && parserError.status < 500) {
      return { code: parserError.status, message: parserError.message ?? '' };
    }
    this.logger.error(
      { err: exception, requestId: request.id, method: request.method, url: request.originalUrl },
      'unhandled error',
    );
    return { code: 500, message: this.production ? '' : ((exception as Error)?.message ?? String(exception)) };
  }
}

function toFieldErrors(body: unknown): FieldError[] {
  if (Array.isArray(body)) return body as FieldError[];
  const message = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : body;
  if (Array.isArray(message)) {
    return message.map((item) =>
      typeof item === 'object' && item !== null && 'reason' in item
        ? (item as FieldError)
        : { name: 'request', index: null, reason: String(item) },
    );
  }
  return [{ name: 'request', index: null, reason: String(message ?? 'bad request') }];
}
