import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { publicBaseUrl, requestedResourceUrl } from './public-url';

/** Express setting holding the API base path, set at bootstrap. */
export const API_BASE_SETTING = 'odb.apiBase';

/** Builds the absolute `url` fields and `Location` headers of responses, as the client sees the API. */
export class ResourceUrls {
  readonly base: string;

  constructor(
    private readonly request: Request,
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
  const request = context.switchToHttp().getRequest<Request>();
  return new ResourceUrls(request, (request.app?.get(API_BASE_SETTING) as string | undefined) ?? '');
});
