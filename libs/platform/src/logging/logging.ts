import { randomUUID } from 'crypto';
import type { IncomingMessage, ServerResponse } from 'http';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { Logger as Pino } from 'pino';

/** Header values that must never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers["x-bbk-auth-token"]',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.token',
  '*.apiKey',
  '*.api_key',
  '*.password',
];

/** The request's correlation id: the caller's `x-request-id` when it is a sane token, else a new UUID. */
export function correlationId(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9._-]{1,128}$/.test(given) ? given : randomUUID();
}

const QUIET_PATHS = new Set(['/health', '/ready', '/metrics']);

function requestLogLevel(statusCode: number, failed = false): 'error' | 'warn' | 'info' {
  return failed || statusCode >= 500 ? 'error' : statusCode >= 400 ? 'warn' : 'info';
}

/**
 * JSON logs (pino), one line per request with a correlation id, secrets
 * redacted. On Express, pino-http writes the request lines as middleware and
 * binds each request's logger to what runs for it (AsyncLocalStorage). On
 * Fastify no middleware: the adapter's hook writes the same line
 * (`logCompletedRequest`); on the consumer's reads the middleware and its
 * per-request context cost a quarter of the CPU (402–456 against 312–316 µs
 * a request, alternated runs; ADR 0007).
 */
export function loggerParams(service: string, level: string, http: 'express' | 'fastify' = 'express'): Params {
  return {
    // Every route, in the path syntax of Nest 11 (nestjs-pino's default, `*`, makes Nest warn at each start).
    forRoutes: http === 'express' ? [{ path: '{*splat}', method: RequestMethod.ALL }] : [],
    pinoHttp: {
      level,
      base: { service },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // Express services only: Fastify gives each request its id first (see `http/fastify.ts`), which pino-http keeps.
      genReqId: (request: IncomingMessage, response: ServerResponse) => {
        const id = correlationId(request);
        response.setHeader('x-request-id', id);
        return id;
      },
      autoLogging: { ignore: (request: IncomingMessage) => QUIET_PATHS.has((request.url ?? '').split('?')[0]) },
      customLogLevel: (_request, response, error) => requestLogLevel(response.statusCode, Boolean(error)),
      serializers: {
        req: (request: { id: string; method: string; url: string }) => ({ id: request.id, method: request.method, url: request.url }),
      },
    },
  };
}

/** What a request line holds. */
export interface CompletedRequest {
  id: string;
  method: string;
  url: string;
  /** Sent: the logger's serializer reads its status and headers, as pino-http's does. */
  response: ServerResponse;
  /** Milliseconds. */
  responseTime: number;
}

/** Fastify services: the line pino-http writes for each request on Express, in the same shape. */
export function logCompletedRequest(logger: Pino, request: CompletedRequest): void {
  if (QUIET_PATHS.has(request.url.split('?')[0])) return;
  const level = requestLogLevel(request.response.statusCode);
  if (!logger.isLevelEnabled(level)) return;
  logger[level](
    { req: { id: request.id, method: request.method, url: request.url }, res: request.response, responseTime: Math.round(request.responseTime) },
    'request completed',
  );
}
