import { randomUUID } from 'crypto';
import type { IncomingMessage, ServerResponse } from 'http';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';

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

/** JSON logs (pino), one line per request with a correlation id, secrets redacted. */
export function loggerParams(service: string, level: string): Params {
  return {
    // Every route, in the path syntax of Nest 11 (nestjs-pino's default, `*`, makes Nest warn at each start).
    forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
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
      customLogLevel: (_request, response, error) =>
        error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'info',
      serializers: {
        req: (request: { id: string; method: string; url: string }) => ({ id: request.id, method: request.method, url: request.url }),
      },
    },
  };
}
