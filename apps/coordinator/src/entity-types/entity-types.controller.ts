import { Controller, Delete, Get, HttpCode, Param, Post, Put, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { RequireRole } from '@odb/auth';
import { ResourceUrls, Urls } from '@odb/platform';
import { bodyOf } from '../common/bbk-request';
import { entityTypeBrief, entityTypeFull } from './entity-type.view';
import { EntityTypesService } from './entity-types.service';

@ApiTags('entity types')
@ApiSecurity('token')
@RequireRole('coordinator')
@Controller('entity')
export class EntityTypesController {
  constructor(private readonly entityTypes: EntityTypesService) {}

  @Get()
  @ApiOperation({ summary: 'List entity types, sorted by id' })
  async list(@Urls() urls: ResourceUrls) {
    return (await this.entityTypes.list()).map((type) => entityTypeBrief(urls, type));
  }

  @Get(':eid')
  @ApiOperation({ summary: 'Get an entity type with its JSON Schema and timeseries' })
  async get(@Param('eid') eid: string, @Urls() urls: ResourceUrls) {
    return entityTypeFull(urls, await this.entityTypes.get(eid.toLowerCase()));
  }

  @Post(':eid')
  @ApiOperation({ summary: 'Create an entity type (201 + Location)' })
  async create(@Param('eid') eid: string, @Req() request: Request, @Res() response: Response, @Urls() urls: ResourceUrls) {
    await this.entityTypes.create(eid.toLowerCase(), bodyOf(request));
    response.location(urls.location()).status(201).send();
  }

  @Put(':eid')
  @HttpCode(204)
  @ApiOperation({ summary: 'Update an entity type' })
  async update(@Param('eid') eid: string, @Req() request: Request) {
    await this.entityTypes.update(eid.toLowerCase(), bodyOf(request));
  }

  @Delete(':eid')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an entity type, its connectors and their records' })
  async delete(@Param('eid') eid: string) {
    await this.entityTypes.delete(eid.toLowerCase());
  }
}
