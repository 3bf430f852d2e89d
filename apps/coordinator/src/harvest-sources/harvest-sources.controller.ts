import { Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { RequireRole } from '@odb/auth';
import { ResourceUrls, Urls } from '@odb/platform';
import { bodyOf } from '../common/bbk-request';
import { HarvestRunItemRow, HarvestRunRow, HarvestSourceRow, HarvestSourcesService } from './harvest-sources.service';

export function harvestSourceView(urls: ResourceUrls, source: HarvestSourceRow) {
  return {
    id: source.slug,
    url: urls.to('harvest', source.slug),
    name: source.name,
    description: source.description,
    catalog: { id: source.catalog, url: urls.to('remote-catalog', source.catalog) },
    mode: source.mode,
    entity_type: source.entity_type ? { id: source.entity_type, url: urls.to('entity', source.entity_type) } : null,
    connector:
      source.entity_type && source.connector_slug
        ? { id: source.connector_slug, url: urls.to('entity', source.entity_type, 'connector', source.connector_slug) }
        : null,
    filters: source.filters,
    schedule: source.schedule,
    timezone: source.timezone,
    on_removed: source.on_removed,
    go_live: source.go_live,
    max_items: source.max_items,
    row_key: source.row_key,
  };
}

export function harvestRunView(urls: ResourceUrls, sourceSlug: string, run: HarvestRunRow, items?: HarvestRunItemRow[]) {
  const end = run.finished_at ?? (run.started_at ? new Date() : null);
  return {
    id: run.id,
    url: urls.to('harvest', sourceSlug, 'run', run.id),
    status: run.status,
    trigger: run.trigger,
    dry_run: run.dry_run,
    requested_at: run.requested_at,
    started_at: run.started_at,
    finished_at: run.finished_at,
    duration_ms: run.started_at && end ? new Date(end).getTime() - new Date(run.started_at).getTime() : null,
    counts: run.counts,
    progress: run.progress,
    listing_complete: run.listing_complete,
    error: run.error,
    ...(items ? { items } : {}),
  };
}

@ApiTags('harvest sources')
@ApiSecurity('token')
@RequireRole('coordinator')
@Controller('harvest')
export class HarvestSourcesController {
  constructor(private readonly sources: HarvestSourcesService) {}

  @Get()
  @ApiOperation({ summary: 'List harvest sources, sorted by id' })
  async list(@Urls() urls: ResourceUrls) {
    return (await this.sources.list()).map((source) => harvestSourceView(urls, source));
  }

  @Get(':hid')
  @ApiOperation({ summary: 'Get a harvest source' })
  async get(@Param('hid') hid: string, @Urls() urls: ResourceUrls) {
    return harvestSourceView(urls, await this.sources.get(hid.toLowerCase()));
  }

  @Post(':hid')
  @ApiOperation({
    summary:
      'Add a harvest source: {name, catalog, mode: metadata|data, entity_type (metadata), filters?, schedule?, timezone?, on_removed?, go_live?, max_items?, row_key?}',
  })
  async create(@Param('hid') hid: string, @Req() request: Request, @Res() response: Response, @Urls() urls: ResourceUrls) {
    await this.sources.create(hid.toLowerCase(), bodyOf(request));
    response.location(urls.location()).status(201).send();
  }

  @Put(':hid')
  @HttpCode(204)
  @ApiOperation({ summary: 'Update a harvest source (mode and entity type cannot change); its schedule follows' })
  async update(@Param('hid') hid: string, @Req() request: Request) {
    await this.sources.update(hid.toLowerCase(), bodyOf(request));
  }

  @Delete(':hid')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a harvest source, its runs, and the connectors, entity types and records it created' })
  async delete(@Param('hid') hid: string) {
    await this.sources.delete(hid.toLowerCase());
  }

  @Post(':hid/run')
  @ApiOperation({ summary: 'Queue a run now: 202 with the run (poll its url)' })
  async run(@Param('hid') hid: string, @Res() response: Response, @Urls() urls: ResourceUrls) {
    await this.queue(hid.toLowerCase(), false, response, urls);
  }

  @Post(':hid/preview')
  @ApiOperation({ summary: 'Queue a dry run: what would be added, updated and deleted, nothing written' })
  async preview(@Param('hid') hid: string, @Res() response: Response, @Urls() urls: ResourceUrls) {
    await this.queue(hid.toLowerCase(), true, response, urls);
  }

  @Get(':hid/run')
  @ApiOperation({ summary: 'Runs of a harvest source, newest first (without their items)' })
  async runs(@Param('hid') hid: string, @Query('limit') limit: string | undefined, @Urls() urls: ResourceUrls) {
    const slug = hid.toLowerCase();
    const wanted = Math.min(500, Math.max(1, Number.parseInt(limit ?? '50', 10) || 50));
    return (await this.sources.listRuns(slug, wanted)).map((run) => harvestRunView(urls, slug, run));
  }

  @Get(':hid/run/:runId')
  @ApiOperation({ summary: 'A run: status, counts, timings, progress and every item outcome other than unchanged' })
  async getRun(@Param('hid') hid: string, @Param('runId') runId: string, @Urls() urls: ResourceUrls) {
    const slug = hid.toLowerCase();
    const { run, items } = await this.sources.getRun(slug, runId.toLowerCase());
    return harvestRunView(urls, slug, run, items);
  }

  private async queue(slug: string, dryRun: boolean, response: Response, urls: ResourceUrls) {
    const run = await this.sources.requestRun(slug, dryRun);
    const view = harvestRunView(urls, slug, run);
    response.location(view.url).status(202).json(view);
  }
}
