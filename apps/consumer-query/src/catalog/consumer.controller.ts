import { Controller, Get, Headers, Param, Query, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuthenticatedRequest, RequireRole } from '@odb/auth';
import { ApiError, ResourceUrls, Urls } from '@odb/platform';
import { QueryError, parseQuery } from '@odb/query';
import { WebhookClient } from '../webhooks/webhook-client';
import { CatalogReader } from './catalog-reader';
import { ConsumerContext, ConsumerContextResolver } from './consumer-query.service';
import { instanceBrief, instanceFull, typeBrief } from './instance-view';
import { timeseriesPaging } from './timeseries-paging';

const CONNECTORS_HEADER = 'x-bbk-connectors';

/** The Consumer API: the catalog as the consumer's policy lets them see it. */
@ApiTags('catalog')
@ApiSecurity('token')
@ApiHeader({ name: CONNECTORS_HEADER, required: false, description: 'Contribution ids of staged connectors to preview (at most 16)' })
@RequireRole('consumer')
@Controller()
export class ConsumerController {
  constructor(
    private readonly contexts: ConsumerContextResolver,
    private readonly catalog: CatalogReader,
    private readonly webhooks: WebhookClient,
  ) {}

  @Get('catalog')
  @ApiOperation({ summary: 'Query the whole catalog with a Mongo-like query (q, URL-encoded JSON); no q means no records' })
  @ApiQuery({ name: 'q', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'offset', required: false })
  async query(@Query() params: Record<string, unknown>, @Req() request: AuthenticatedRequest, @Res() response: Response, @Urls() urls: ResourceUrls) {
    const text = typeof params.q === 'string' && params.q !== '' ? params.q : '{}';
    const { page, errors } = this.contexts.page(params.limit, params.offset);
    let query: Record<string, unknown> = {};
    try {
      query = parseQuery(text) as Record<string, unknown>;
    } catch (error) {
      if (!(error instanceof QueryError)) throw error;
      errors.unshift({ name: 'policy.data_segment.segment_query', index: null, reason: error.reason });
    }
    if (errors.length > 0) throw ApiError.badRequest(errors);
    const context = await this.context(request);
    const rows = await this.catalog.query(context.visibility, query, page);
    send(response, context, rows.map((row) => instanceBrief(urls, row, context.policy.policy.legal_context)));
  }

  @Get('entity')
  @ApiOperation({ summary: 'Entity types that have records this consumer can see' })
  async types(@Query() params: Record<string, unknown>, @Req() request: AuthenticatedRequest, @Res() response: Response, @Urls() urls: ResourceUrls) {
    const { page, errors } = this.contexts.page(params.limit, params.offset);
    if (errors.length > 0) throw ApiError.badRequest(errors);
    const context = await this.context(request);
    send(response, context, (await this.catalog.types(context.visibility, page)).map((type) => typeBrief(urls, type)));
  }

  @Get('entity/:type')
  @ApiOperation({ summary: 'Records of one entity type, in insertion order' })
  async list(
    @Param('type') type: string,
    @Query() params: Record<string, unknown>,
    @Req() request: AuthenticatedRequest,
    @Res() response: Response,
    @Urls() urls: ResourceUrls,
  ) {
    const { page, errors } = this.contexts.page(params.limit, params.offset);
    if (errors.length > 0) throw ApiError.badRequest(errors);
    const context = await this.context(request);
    const rows = await this.catalog.list(context.visibility, type.toLowerCase(), page);
    send(response, context, rows.map((row) => instanceBrief(urls, row, context.policy.policy.legal_context)));
  }

  @Get('entity/:type/:id')
  @ApiOperation({ summary: "One record, with its connector's live data merged in, field masks applied and bbk:// links resolved" })
  async get(
    @Param('type') type: string,
    @Param('id') id: string,
    @Req() request: AuthenticatedRequest,
    @Res() response: Response,
    @Urls() urls: ResourceUrls,
  ) {
    const context = await this.context(request);
    const row = await this.catalog.find(context.visibility, type.toLowerCase(), id.toLowerCase());
    if (!row) throw ApiError.notFound();
    const extra = row.webhook ? await this.webhooks.getJson(`${row.webhook}/entity/${row.type}/${encodeURIComponent(row.vendor_id)}`) : undefined;
    const { legal_context: legal, data_segment: segment } = context.policy.policy;
    send(response, context, instanceFull(urls, row, legal, segment?.field_masks, extra));
  }

  @Get('entity/:type/:id/timeseries/:tsid')
  @ApiOperation({ summary: "A timeseries of a record, from its connector's webhook ([] when it has none or it fails)" })
  async timeseries(
    @Param('type') type: string,
    @Param('id') id: string,
    @Param('tsid') tsid: string,
    @Query() params: Record<string, unknown>,
    @Req() request: AuthenticatedRequest,
    @Res() response: Response,
  ) {
    const { paging, errors } = timeseriesPaging(params);
    if (errors.length > 0) throw ApiError.badRequest(errors);
    const context = await this.context(request);
    const row = await this.catalog.find(context.visibility, type.toLowerCase(), id.toLowerCase());
    const series = tsid.toLowerCase();
    if (!row || !Object.prototype.hasOwnProperty.call(row.document.timeseries ?? {}, series)) throw ApiError.notFound();
    let points: unknown = [];
    if (row.webhook) {
      const query = new URLSearchParams(Object.entries(paging).map(([key, value]): [string, string] => [key, String(value)]));
      const answer = await this.webhooks.getJson(`${row.webhook}/timeseries/${row.type}/${encodeURIComponent(row.vendor_id)}/${series}?${query}`);
      points = answer ?? [];
    }
    send(response, context, points);
  }

  private async context(request: AuthenticatedRequest): Promise<ConsumerContext> {
    const connectors = request.headers[CONNECTORS_HEADER];
    return this.contexts.resolve(request.auth?.context ?? '', Array.isArray(connectors) ? connectors.join(',') : connectors);
  }
}

function send(response: Response, context: ConsumerContext, body: unknown): void {
  response.set(context.headers).json(body);
}
