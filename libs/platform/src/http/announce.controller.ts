import { Controller, Get, Inject, Req, Type } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SERVICE_CONFIG } from '../service-config.token';
import { RestServiceConfig } from '../config/service-config';
import { HttpRequest, publicBaseUrl } from './public-url';

/**
 * BitBroker's announce document at the API base, and its diagnostic
 * `GET /error/test` that always fails with a 500.
 */
export function announceController(label: string): Type<unknown> {
  @ApiTags('service')
  @Controller()
  class AnnounceController {
    constructor(@Inject(SERVICE_CONFIG) private readonly config: RestServiceConfig) {}

    @Get()
    @ApiOperation({ summary: 'Announce: service name, base URL, time and mode' })
    @ApiOkResponse({ description: '{now, name, base, status}' })
    announce(@Req() request: HttpRequest) {
      return {
        now: new Date().toISOString(),
        name: `bit-broker ${label} service`,
        base: publicBaseUrl(request, this.config.API_BASE),
        status: this.config.NODE_ENV === 'production' ? 'production' : 'development',
      };
    }

    @Get('error/test')
    @ApiOperation({ summary: 'Always answers 500: checks error reporting end to end' })
    errorTest(): never {
      throw new Error('test error message - please ignore');
    }
  }
  return AnnounceController;
}
