import { Controller, Get, Header, Param, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiError, HttpRequest, ResourceUrls, Urls, preferredMediaType } from '@odb/platform';
import { buildCatalogDocument, buildDatasetDocument, toTurtle } from './dcat-builder';
import { DcatReader } from './dcat-reader';

const JSON_LD = 'application/ld+json; charset=utf-8';
const TURTLE = 'text/turtle; charset=utf-8';
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 100;

/**
 * The platform's own catalog as DCAT-AP, for portals that harvest (udata's
 * and ckanext-dcat's DCAT harvesters, data.europa.eu). Public: it describes
 * datasets, it does not serve records (those need a consumer key).
 */
@ApiTags('dcat')
@Controller('dcat')
export class DcatController {
  constructor(private readonly reader: DcatReader) {}

  @Get('catalog')
  @Header('Vary', 'Accept')
  @ApiOperation({ summary: 'The catalog as DCAT-AP: JSON-LD (default) or Turtle (Accept: text/turtle or ?format=ttl), hydra-paged; public' })
  @ApiProduces('application/ld+json', 'text/turtle')
  @ApiQuery({ name: 'page', required: false, description: '1-based (default 1)' })
  @ApiQuery({ name: 'page_size', required: false, description: `datasets per page, 1–${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE})` })
  @ApiQuery({ name: 'format', required: false, description: 'jsonld or ttl (overrides Accept)' })
  async catalog(@Query() query: Record<string, unknown>, @Req() request: HttpRequest, @Res() reply: FastifyReply, @Urls() urls: ResourceUrls) {
    const format = this.format(query.format, request);
    const page = integer(query.page, 'page', 1, 1, Number.MAX_SAFE_INTEGER);
    const pageSize = integer(query.page_size, 'page_size', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE);
    const errors = [page, pageSize].flatMap((value) => (typeof value === 'number' ? [] : [value]));
    if (errors.length > 0) throw ApiError.badRequest(errors);
    const [total, types] = await Promise.all([this.reader.count(), this.reader.page(pageSize as number, ((page as number) - 1) * (pageSize as number))]);
    const document = buildCatalogDocument({
      base: urls.base,
      page: page as number,
      pageSize: pageSize as number,
      total,
      types,
      format: typeof query.format === 'string' ? query.format : undefined,
    });
    await send(reply, format, document, urls.base);
  }

  @Get('dataset/:slug')
  @Header('Vary', 'Accept')
  @ApiOperation({ summary: 'One dataset of the catalog as DCAT-AP (what its IRI answers); public' })
  @ApiProduces('application/ld+json', 'text/turtle')
  async dataset(@Param('slug') slug: string, @Query('format') format: unknown, @Req() request: HttpRequest, @Res() reply: FastifyReply, @Urls() urls: ResourceUrls) {
    const chosen = this.format(format, request);
    const type = await this.reader.one(slug.toLowerCase());
    if (!type) throw ApiError.notFound();
    await send(reply, chosen, buildDatasetDocument(urls.base, type), urls.base);
  }

  /** `?format=` wins; else Turtle when the client prefers it; JSON-LD otherwise. */
  private format(given: unknown, request: HttpRequest): 'jsonld' | 'ttl' {
    if (given !== undefined) {
      if (given === 'ttl' || given === 'turtle') return 'ttl';
      if (given === 'jsonld' || given === 'json') return 'jsonld';
      throw ApiError.field('format', 'is not one of jsonld, ttl');
    }
    return preferredMediaType(request, ['application/ld+json', 'application/json', 'text/turtle']) === 'text/turtle' ? 'ttl' : 'jsonld';
  }
}

async function send(reply: FastifyReply, format: 'jsonld' | 'ttl', document: Record<string, unknown>, base: string): Promise<void> {
  if (format === 'ttl') void reply.type(TURTLE).send(await toTurtle(document, base));
  else void reply.type(JSON_LD).send(JSON.stringify(document));
}

/** The value as an integer within bounds, or the 400 item saying why not. */
function integer(value: unknown, name: string, fallback: number, min: number, max: number): number | { name: string; index: null; reason: string } {
  if (value === undefined || value === '') return fallback;
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    return { name, index: null, reason: `must be an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}` };
  }
  return number;
}
