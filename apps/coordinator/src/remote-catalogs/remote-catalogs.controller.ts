import { Controller, Delete, Get, HttpCode, Param, Post, Put, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { RequireRole } from '@odb/auth';
import { RemoteCatalogEntity } from '@odb/persistence';
import { ResourceUrls, Urls } from '@odb/platform';
import { bodyOf } from '../common/bbk-request';
import { RemoteCatalogsService } from './remote-catalogs.service';

/** `url` is this resource's own URL, as everywhere in the API; the catalog's address is `remote_url`. */
export function remoteCatalogView(urls: ResourceUrls, catalog: RemoteCatalogEntity) {
  return {
    id: catalog.slug,
    url: urls.to('remote-catalog', catalog.slug),
    name: catalog.name,
    description: catalog.description,
    type: catalog.type,
    remote_url: catalog.url,
    organization: catalog.organization,
    has_api_key: catalog.apiKeySealed !== null,
  };
}

@ApiTags('remote catalogs')
@ApiSecurity('token')
@RequireRole('coordinator')
@Controller('remote-catalog')
export class RemoteCatalogsController {
  constructor(private readonly catalogs: RemoteCatalogsService) {}

  @Get()
  @ApiOperation({ summary: 'List remote catalogs, sorted by id' })
  async list(@Urls() urls: ResourceUrls) {
    return (await this.catalogs.list()).map((catalog) => remoteCatalogView(urls, catalog));
  }

  @Get(':rcid')
  @ApiOperation({ summary: 'Get a remote catalog (its API key is never returned, only whether one is set)' })
  async get(@Param('rcid') rcid: string, @Urls() urls: ResourceUrls) {
    return remoteCatalogView(urls, await this.catalogs.get(rcid.toLowerCase()));
  }

  @Post(':rcid')
  @ApiOperation({ summary: 'Add a remote catalog: {type: ckan|udata|dcat, url, name, description?, organization?, api_key?}' })
  async create(@Param('rcid') rcid: string, @Req() request: Request, @Res() response: Response, @Urls() urls: ResourceUrls) {
    await this.catalogs.create(rcid.toLowerCase(), bodyOf(request));
    response.location(urls.location()).status(201).send();
  }

  @Put(':rcid')
  @HttpCode(204)
  @ApiOperation({ summary: 'Update a remote catalog; api_key absent keeps the key, null removes it' })
  async update(@Param('rcid') rcid: string, @Req() request: Request) {
    await this.catalogs.update(rcid.toLowerCase(), bodyOf(request));
  }

  @Delete(':rcid')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a remote catalog (409 while harvest sources or publications use it)' })
  async delete(@Param('rcid') rcid: string) {
    await this.catalogs.delete(rcid.toLowerCase());
  }

  @Post(':rcid/check')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reach the remote with the stored credentials: what it is (title, dataset count) or why not' })
  async check(@Param('rcid') rcid: string) {
    return this.catalogs.check(rcid.toLowerCase());
  }
}
