import { Controller, Get, Inject, Param, Query, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiProduces, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AuthenticatedRequest, RequireRole } from '@odb/auth';
import { ApiError, FieldError, ResourceUrls, SERVICE_CONFIG, Urls, preferredMediaType } from '@odb/platform';
import { QueryError, parseQuery } from '@odb/query';
import { ConsumerQueryConfig } from '../config';
import { WebhookClient } from '../webhooks/webhook-client';
import { CatalogReader, Page, RecordRow } from './catalog-reader';
import { ConsumerContext, ConsumerContextResolver } from './consumer-query.service';
import { CsvExport, csvExport } from './csv';
import { EntityTypeDirectory } from './entity-types';
import { catalogCsv, entityCsv, instanceBriefsJson, instanceFull, typeBrief } from './instance-view';
import { timeseriesPaging } from './timeseries-paging';

const CONNECTORS_HEADER = 'x-bbk-connectors';
const LEGAL_HEADER = 'x-bbk-legal-context';

const CSV_DESCRIPTION =
  'Answers `text/csv` (RFC 4180, UTF-8, header row) instead of JSON when asked with `Accept: text/csv` or `?format=csv` ' +
  '(`?format=json` forces JSON). The CSV is streamed from the database in batches, so any size can be exported. ' +
  'Without `limit` and `offset` it holds **every** matching record; with them it holds exactly the page the JSON answer would ' +
  '(same validation: `limit` 1–250, `offset` ≥ 0); `offset` alone skips that many records and exports the rest. ' +
  'Masks apply; nested values are JSON text; `bbk://` links are rewritten; webhooks are not called. ' +
  'Strings starting with `= + - @`, tab or CR get a leading `\'` (CSV injection). The policy\'s legal context is in the ' +
  '`x-bbk-legal-context` header (JSON).';

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
    private readonly entityTypes: EntityTypeDirectory,
    private readonly webhooks: WebhookClient,
    @Inject(SERVICE_CONFIG) private readonly config: ConsumerQueryConfig,
  ) {}

  @Get('catalog')
  @ApiOperation({
    summary: 'Query the whole catalog with a Mongo-like query (q, URL-encoded JSON); no q means no records',
    description: `${CSV_DESCRIPTION} CSV columns: id, url, type, name, entity (JSON), instance (JSON).`,
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiQuery({ name: 'q', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'offset', required: false })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'csv'] })
  async query(@Query() params: Record<string, unknown>, @Req() request: AuthenticatedRequest, @Res() reply: FastifyReply, @Urls() urls: ResourceUrls) {
    const text = typeof params.q === 'string' && params.q !== '' ? params.q : '{}';
    const { page, errors } = this.contexts.page(params.limit, params.offset);
    const csv = wantsCsv(request, params, errors);
    let query: Record<string, unknown> = {};
    try {
      query = parseQuery(text) as Record<string, unknown>;
    } catch (error) {
      if (!(error instanceof QueryError)) throw error;
      errors.unshift({ name: QueryError.ERROR_NAME, index: null, reason: error.reason });
    }
    if (errors.length > 0) throw ApiError.badRequest(errors);
    const context = await this.context(request);
    const legal = context.policy.policy.legal_context;
    if (csv) {
      const view = catalogCsv(urls, context.policy.policy.data_segment?.field_masks);
      return sendCsv(reply, {
        ...view,
        ...this.csvPaging(params, page),
        filename: 'catalog.csv',
        headers: { ...context.headers, ...legalHeader(legal) },
        read: (batch) => this.catalog.queryRecords(context.visibility, query, batch),
      });
    }
    sendJson(reply, context, instanceBriefsJson(urls, await this.catalog.query(context.visibility, query, page), legal));
  }

  @Get('entity')
  @ApiOperation({ summary: 'Entity types that have records this consumer can see' })
  async types(@Query() params: Record<string, unknown>, @Req() request: AuthenticatedRequest, @Res() reply: FastifyReply, @Urls() urls: ResourceUrls) {
    const { page, errors } = this.contexts.page(params.limit, params.offset);
    if (errors.length > 0) throw ApiError.badRequest(errors);
    const context = await this.context(request);
    send(reply, context, (await this.catalog.typesVisible(context.visibility, page)).map((type) => typeBrief(urls, type)));
  }

  @Get('entity/:type')
  @ApiOperation({
    summary: 'Records of one entity type, in insertion order',
    description:
      `${CSV_DESCRIPTION} CSV columns: id, url, type, name, then one per top-level property the entity type's JSON Schema ` +
      'declares, in alphabetical order, less the masked ones (properties it does not declare are not exported; a type that declares ' +
      'none gets one `entity` column holding the whole entity as JSON).',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'offset', required: false })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'csv'] })
  async list(
    @Param('type') type: string,
    @Query() params: Record<string, unknown>,
    @Req() request: AuthenticatedRequest,
    @Res() reply: FastifyReply,
    @Urls() urls: ResourceUrls,
  ) {
    const { page, errors } = this.contexts.page(params.limit, params.offset);
    const csv = wantsCsv(request, params, errors);
    if (errors.length > 0) throw ApiError.badRequest(errors);
    const context = await this.context(request);
    const slug = type.toLowerCase();
    const legal = context.policy.policy.legal_context;
    if (csv) {
      const declared = (storable(slug) ? await this.entityTypes.bySlug(slug, { fresh: true }) : null)?.properties ?? [];
      const view = entityCsv(urls, slug, declared, context.policy.policy.data_segment?.field_masks);
      return sendCsv(reply, {
        ...view,
        ...this.csvPaging(params, page),
        filename: `${slug.replace(/[^a-z0-9-]/g, '_') || 'entity'}.csv`,
        headers: { ...context.headers, ...legalHeader(legal) },
        read: (batch) => (storable(slug) ? this.catalog.listRecords(context.visibility, slug, batch) : Promise.resolve([])),
      });
    }
    sendJson(reply, context, instanceBriefsJson(urls, storable(slug) ? await this.catalog.list(context.visibility, slug, page) : [], legal));
  }

  @Get('entity/:type/:id')
  @ApiOperation({ summary: "One record, with its connector's live data merged in, field masks applied and bbk:// links resolved" })
  async get(
    @Param('type') type: string,
    @Param('id') id: string,
    @Req() request: AuthenticatedRequest,
    @Res() reply: FastifyReply,
    @Urls() urls: ResourceUrls,
  ) {
    const context = await this.context(request);
    const row = await this.find(context, type, id);
    if (!row) throw ApiError.notFound();
    const extra = row.webhook ? await this.webhooks.getJson(`${row.webhook}/entity/${row.type}/${encodeURIComponent(row.vendor_id)}`) : undefined;
    const { legal_context: legal, data_segment: segment } = context.policy.policy;
    send(reply, context, instanceFull(urls, row, legal, segment?.field_masks, extra));
  }

  @Get('entity/:type/:id/timeseries/:tsid')
  @ApiOperation({ summary: "A timeseries of a record, from its connector's webhook ([] when it has none or it fails)" })
  async timeseries(
    @Param('type') type: string,
    @Param('id') id: string,
    @Param('tsid') tsid: string,
    @Query() params: Record<string, unknown>,
    @Req() request: AuthenticatedRequest,
    @Res() reply: FastifyReply,
  ) {
    const { paging, errors } = timeseriesPaging(params);
    if (errors.length > 0) throw ApiError.badRequest(errors);
    const context = await this.context(request);
    const row = await this.find(context, type, id);
    const series = tsid.toLowerCase();
    if (!row || !Object.prototype.hasOwnProperty.call(row.document.timeseries ?? {}, series)) throw ApiError.notFound();
    let points: unknown = [];
    if (row.webhook) {
      const query = new URLSearchParams(Object.entries(paging).map(([key, value]): [string, string] => [key, String(value)]));
      const answer = await this.webhooks.getJson(`${row.webhook}/timeseries/${row.type}/${encodeURIComponent(row.vendor_id)}/${series}?${query}`);
      points = answer ?? [];
    }
    send(reply, context, points);
  }

  /** The record a path names, if visible (a path PostgreSQL could not even take as text names nothing). */
  private find(context: ConsumerContext, type: string, id: string): Promise<RecordRow | null> {
    if (!storable(type) || !storable(id)) return Promise.resolve(null);
    return this.catalog.find(context.visibility, type.toLowerCase(), id.toLowerCase());
  }

  /** CSV exports everything unless `limit` or `offset` is given; with `limit`, just that page. */
  private csvPaging(params: Record<string, unknown>, page: Page): { limit?: number; offset: number; batchSize: number } {
    const given = (value: unknown) => typeof value === 'string' && value !== '';
    return {
      limit: given(params.limit) ? page.limit : undefined,
      offset: given(params.offset) ? page.offset : 0,
      batchSize: this.config.CSV_BATCH_SIZE,
    };
  }

  private async context(request: AuthenticatedRequest): Promise<ConsumerContext> {
    const connectors = request.headers[CONNECTORS_HEADER];
    return this.contexts.resolve(request.auth?.context ?? '', Array.isArray(connectors) ? connectors.join(',') : connectors);
  }
}

/** Any JSON value (a bare string too, which Fastify would otherwise send as text). */
function send(reply: FastifyReply, context: ConsumerContext, body: unknown): void {
  sendJson(reply, context, JSON.stringify(body));
}

/** JSON already serialised (instance briefs). */
function sendJson(reply: FastifyReply, context: ConsumerContext, json: string): void {
  void reply.headers(context.headers).type('application/json; charset=utf-8').send(json);
}

async function sendCsv(reply: FastifyReply, csv: CsvExport): Promise<void> {
  const answer = await csvExport(csv);
  void reply.headers(answer.headers).send(answer.body);
}

/** `?format=csv|json` wins; otherwise `Accept` decides (JSON unless text/csv is preferred). Other formats are a 400. */
function wantsCsv(request: AuthenticatedRequest, params: Record<string, unknown>, errors: FieldError[]): boolean {
  const format = params.format;
  if (format !== undefined && format !== '') {
    if (format === 'csv') return true;
    if (format === 'json') return false;
    errors.push({ name: 'format', index: null, reason: 'must be one of json, csv' });
    return false;
  }
  const accept = request.headers.accept;
  if (!accept || !/text\/csv/i.test(accept)) return false;
  return preferredMediaType(request, ['application/json', 'text/csv']) === 'text/csv';
}

/** Text PostgreSQL can store: path parameters are percent-decoded, so they may hold NUL. */
function storable(value: string): boolean {
  return !value.includes('\u0000');
}

/** The legal context as an ASCII-safe JSON header value. */
function legalHeader(legal: unknown): Record<string, string> {
  const json = JSON.stringify(legal ?? []).replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return { [LEGAL_HEADER]: json };
}
