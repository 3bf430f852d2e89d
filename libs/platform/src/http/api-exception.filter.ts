import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { STATUS_CODES } from 'http';
import { ApiError, FieldError } from './api-error';

/** Statuses whose message is always empty in BitBroker's envelope. */
const SILENT = new Set([401, 403, 404, 405, 409]);

/** What Express' body parser throws (Nest maps Fastify's errors to HttpExceptions itself). */
interface BodyParserError {
  type?: string;
  status?: number;
  message?: string;
  limit?: number;
}

/** The API's error envelope. */
export function errorEnvelope(code: number, message: unknown) {
  return { error: { code, status: STATUS_CODES[code] ?? 'Error', message } };
}

/**
 * Every error leaves in one envelope: `{"error":{"code","status","message"}}`,
 * 400 messages as `[{name,index,reason}]`, unknown errors as 500 with the
 * message only outside production, logged with the request id. Works on
 * either HTTP adapter (Express or Fastify) through Nest's adapter host.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiExceptionFilter');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly production: boolean,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const http = host.switchToHttp();
    const response = http.getResponse<unknown>();
    const request = http.getRequest<{ id?: string }>();
    const { code, message } = describeError(exception, this.production, (error) =>
      this.logger.error(
        { err: error, requestId: request.id, method: httpAdapter.getRequestMethod(request), url: httpAdapter.getRequestUrl(request) },
        'unhandled error',
      ),
    );
    if (httpAdapter.isHeadersSent(response)) return;
    if (exception instanceof ApiError) {
      for (const [name, value] of Object.entries(exception.headers)) httpAdapter.setHeader(response, name, value);
    }
    httpAdapter.reply(response, errorEnvelope(code, message), code);
  }
}

/** The status and envelope message of any error; `unexpected` is told about the ones that become a 500. */
export function describeError(exception: unknown, production: boolean, unexpected: (error: unknown) => void): { code: number; message: unknown } {
  if (exception instanceof HttpException) return describeHttpException(exception);
  const parserError = exception as BodyParserError | undefined;
  if (parserError?.type === 'entity.parse.failed') {
    return { code: 400, message: [{ name: 'syntax', index: null, reason: parserError.message ?? 'invalid JSON' }] };
  }
  if (parserError?.type === 'entity.too.large') {
    return { code: 413, message: `request body larger than the ${parserError.limit ?? ''} bytes allowed`.replace('  ', ' ') };
  }
  if (parserError?.type && parserError.status && parserError.status >= 400 && parserError.status < 500) {
    return { code: parserError.status, message: parserError.message ?? '' };
  }
  unexpected(exception);
  return { code: 500, message: production ? '' : ((exception as Error)?.message ?? String(exception)) };
}

/** The status and envelope message of an HttpException (400s as field errors, some statuses silent). */
export function describeHttpException(exception: HttpException): { code: number; message: unknown } {
  const code = exception.getStatus();
  if (code === 400) return { code, message: toFieldErrors(exception.getResponse()) };
  if (SILENT.has(code)) return { code, message: '' };
  const body = exception.getResponse();
  return { code, message: typeof body === 'string' ? body : ((body as { message?: unknown }).message ?? '') };
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
