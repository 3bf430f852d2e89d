import { hash } from 'crypto';
import fastifyEtag from '@fastify/etag';
import { HttpException } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import { describeHttpException, errorEnvelope } from './api-exception.filter';
import { correlationId, logCompletedRequest } from '../logging/logging';
import { observeHttpRequest } from '../metrics/metrics';

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

/** `512kb`, `10mb` (the MAX_BODY_SIZE syntax) in bytes. */
export function byteSize(size: string): number {
  const match = /^(\d+)(b|kb|mb)$/i.exec(size);
  if (!match) throw new Error(`not a size: ${size}`);
  return Number(match[1]) * UNITS[match[2].toLowerCase()];
}

/**
 * The Fastify adapter, routing the way the Express services do (paths
 * case-insensitive, a trailing slash optional), so both kinds of service
 * answer the same URLs.
 */
export function fastifyAdapter(maxBodySize: string | undefined): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: maxBodySize ? byteSize(maxBodySize) : undefined,
    // The request id the logs carry (pino-http keeps an id already given), as on the Express services.
    requestIdHeader: false,
    genReqId: correlationId,
    // Fastify's default answers 414 past 100 characters a parameter; Express takes any (an unknown id is a 404).
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: 16 * 1024 },
    // A malformed URL fails before any route (and Nest's filters) runs: answer it in the API's envelope too.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      const { code, message } = describeHttpException(new HttpException(error.message, error.statusCode ?? 400));
      void reply.code(code).send(errorEnvelope(code, message));
    },
  });
}

/**
 * What the Express services get from middleware and settings: request
 * metrics, request log lines, the correlation id header and strong ETags.
 * (Nest routes Fastify's own errors, body parsing included, through the
 * exception filters.)
 */
export async function setUpFastify(app: NestFastifyApplication): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  // One-shot hashing: a hash object per response cost more than the hashing of a record's JSON.
  await app.register(fastifyEtag as never, { weak: false, hashFn: (payload: string | Buffer) => hash('sha1', payload, 'base64') });
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    observeHttpRequest(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
    logCompletedRequest(PinoLogger.root, {
      id: request.id,
      method: request.method,
      url: request.url,
      response: reply.raw,
      responseTime: reply.elapsedTime,
    });
    done();
  });
}
