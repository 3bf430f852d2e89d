import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { json } from 'express';

/**
 * Parses JSON bodies inside Nest's middleware chain, so that a syntax error or
 * an oversized body reaches the exception filter (and the API's envelope)
 * rather than Express' HTML error page.
 */
export function jsonBodyMiddleware(limit: string) {
  const parse = json({ limit, strict: true });
  @Injectable()
  class JsonBodyMiddleware implements NestMiddleware {
    async use(request: Request, response: Response, next: NextFunction): Promise<void> {
      await new Promise<void>((resolve, reject) => parse(request, response, (error?: unknown) => (error ? reject(error) : resolve())));
      next();
    }
  }
  return JsonBodyMiddleware;
}
