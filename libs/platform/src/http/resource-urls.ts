import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { HttpRequest, publicBaseUrl, requestedResourceUrl } from './public-url';

/** Where bootstrap leaves the API base path: an Express setting, or a decoration of the Fastify instance. */
export const API_BASE_SETTING = 'odbApiBase';

/** The API base path of the service a request reached (Express: `request.app`, Fastify: `request.server`). */
function apiBaseOf(request: HttpRequest & { app?: { get(name: string): unknown }; server?: Record<string, unknown> }): string {
  const base = request.app ? request.app.get(API_BASE_SETTING) : request.server?.[API_BASE_SETTING];
  return typeof base === 'string' ? base : '';
}

/** Builds the absolute `url` fields and `Location` headers of responses, as the client sees the API. */
export class ResourceUrls {
  readonly base: string;

  constructor(
    private readonly request: HttpRequest,
    apiBase: string,
  ) {
    this.base = publicBaseUrl(request, apiBase);
  }

  to(...segments: Array<string | number>): string {
    return [this.base, ...segments].join('/');
  }

  /** `Location` of a 201: the requested URL without trailing slash, plus `suffix` segments. */
  location(...suffix: Array<string | number>): string {
    return [requestedResourceUrl(this.request), ...suffix].join('/');
  }
}

/** Handler parameter: the `ResourceUrls` of the current request. */
export const Urls = createParamDecorator((_: unknown, context: ExecutionContext): ResourceUrls => {
  const request = context.switchToHttp().getRequest<HttpRequest>();
  return new ResourceUrls(request, apiBaseOf(request));
});
