import { Controller, Delete, Get, HttpCode, Param, Post, Put, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { RequireRole } from '@odb/auth';
import { ConnectorEntity } from '@odb/persistence';
import { ResourceUrls, Urls } from '@odb/platform';
import { bodyOf } from '../common/bbk-request';
import { ConnectorsService } from './connectors.service';

function connectorBrief(urls: ResourceUrls, entitySlug: string, connector: ConnectorEntity) {
  return {
    id: connector.slug,
    url: urls.to('entity', entitySlug, 'connector', connector.slug),
    name: connector.name,
    description: connector.description,
  };
}

@ApiTags('connectors')
@ApiSecurity('token')
@RequireRole('coordinator')
@Controller('entity/:eid/connector')
export class ConnectorsController {
  constructor(private readonly connectors: ConnectorsService) {}

  @Get()
  @ApiOperation({ summary: "List an entity type's connectors, sorted by id" })
  async list(@Param('eid') eid: string, @Urls() urls: ResourceUrls) {
    const entitySlug = eid.toLowerCase();
    return (await this.connectors.list(entitySlug)).map((connector) => connectorBrief(urls, entitySlug, connector));
  }

  @Get(':cid')
  @ApiOperation({ summary: 'Get a connector: contribution id, webhook, cache, live and session state' })
  async get(@Param('eid') eid: string, @Param('cid') cid: string, @Urls() urls: ResourceUrls) {
    const entitySlug = eid.toLowerCase();
    const { connector } = await this.connectors.get(entitySlug, cid.toLowerCase());
    return {
      ...connectorBrief(urls, entitySlug, connector),
      entity: { id: entitySlug, url: urls.to('entity', entitySlug) },
      contribution_id: connector.contributionId,
      webhook: connector.webhook,
      cache: connector.cache,
      is_live: connector.isLive,
      in_session: connector.sessionId !== null,
    };
  }

  @Post(':cid')
  @ApiOperation({ summary: 'Create a connector: 201 with {id: contribution id, token} (the token is shown once)' })
  async create(
    @Param('eid') eid: string,
    @Param('cid') cid: string,
    @Req() request: Request,
    @Res() response: Response,
    @Urls() urls: ResourceUrls,
  ) {
    const created = await this.connectors.create(eid.toLowerCase(), cid.toLowerCase(), bodyOf(request));
    response.location(urls.location()).status(201).json(created);
  }

  @Put(':cid')
  @HttpCode(204)
  @ApiOperation({ summary: 'Update a connector' })
  async update(@Param('eid') eid: string, @Param('cid') cid: string, @Req() request: Request) {
    await this.connectors.update(eid.toLowerCase(), cid.toLowerCase(), bodyOf(request));
  }

  @Delete(':cid')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a connector and its records; its token is revoked' })
  async delete(@Param('eid') eid: string, @Param('cid') cid: string) {
    await this.connectors.delete(eid.toLowerCase(), cid.toLowerCase());
  }

  @Post(':cid/live')
  @HttpCode(204)
  @ApiOperation({ summary: 'Promote a connector to live (idempotent)' })
  async promote(@Param('eid') eid: string, @Param('cid') cid: string) {
    await this.connectors.setLive(eid.toLowerCase(), cid.toLowerCase(), true);
  }

  @Delete(':cid/live')
  @HttpCode(204)
  @ApiOperation({ summary: 'Demote a connector to staging (idempotent)' })
  async demote(@Param('eid') eid: string, @Param('cid') cid: string) {
    await this.connectors.setLive(eid.toLowerCase(), cid.toLowerCase(), false);
  }

  @Post(':cid/token')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rotate the contributor token: 200 with {id, token}; the old token is revoked at once' })
  async rotate(@Param('eid') eid: string, @Param('cid') cid: string) {
    return this.connectors.rotateToken(eid.toLowerCase(), cid.toLowerCase());
  }
}
