import { Controller, Delete, Get, HttpCode, Param, Post, Put, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { RequireRole } from '@odb/auth';
import { ResourceUrls, Urls } from '@odb/platform';
import { bodyOf } from '../common/bbk-request';
import { DatasetMetadataService } from './dataset-metadata.service';
import { publicationView } from './publication.view';
import { PublicationsService } from './publications.service';

@ApiTags('publications')
@ApiSecurity('token')
@RequireRole('coordinator')
@Controller('entity/:eid')
export class EntityPublicationsController {
  constructor(
    private readonly publications: PublicationsService,
    private readonly metadata: DatasetMetadataService,
  ) {}

  @Get('metadata')
  @ApiOperation({ summary: 'Publishing metadata of an entity type (license, frequency, keywords, coverage, publisher, landing page)' })
  async getMetadata(@Param('eid') eid: string) {
    return this.metadata.get(eid.toLowerCase());
  }

  @Put('metadata')
  @HttpCode(204)
  @ApiOperation({ summary: 'Replace the publishing metadata of an entity type ({} clears it); its publications are pushed again' })
  async putMetadata(@Param('eid') eid: string, @Req() request: Request) {
    await this.metadata.replace(eid.toLowerCase(), bodyOf(request));
  }

  @Get('publication')
  @ApiOperation({ summary: "An entity type's publications, by remote catalog id" })
  async list(@Param('eid') eid: string, @Urls() urls: ResourceUrls) {
    return (await this.publications.listForEntity(eid.toLowerCase())).map((item) => publicationView(urls, item));
  }

  @Get('publication/:rcid')
  @ApiOperation({ summary: 'A publication: configuration, status, remote id and URL, last success, last error and the log of its last run' })
  async get(@Param('eid') eid: string, @Param('rcid') rcid: string, @Urls() urls: ResourceUrls) {
    return publicationView(urls, await this.publications.get(eid.toLowerCase(), rcid.toLowerCase()));
  }

  @Put('publication/:rcid')
  @ApiOperation({ summary: 'Publish an entity type to a udata or CKAN remote catalog ({organization?, visibility?: public|private}): 201 created, 204 updated' })
  async put(@Param('eid') eid: string, @Param('rcid') rcid: string, @Req() request: Request, @Res() response: Response, @Urls() urls: ResourceUrls) {
    const created = await this.publications.put(eid.toLowerCase(), rcid.toLowerCase(), bodyOf(request));
    if (created) response.location(urls.location()).status(201).send();
    else response.status(204).send();
  }

  @Delete('publication/:rcid')
  @HttpCode(202)
  @ApiOperation({ summary: 'Unpublish: the remote dataset is deleted, then the publication (shown as deleting until then)' })
  async delete(@Param('eid') eid: string, @Param('rcid') rcid: string) {
    await this.publications.delete(eid.toLowerCase(), rcid.toLowerCase());
  }

  @Post('publication/:rcid/publish')
  @HttpCode(202)
  @ApiOperation({ summary: 'Push the publication now, whether or not something changed' })
  async publish(@Param('eid') eid: string, @Param('rcid') rcid: string) {
    await this.publications.requestPush(eid.toLowerCase(), rcid.toLowerCase());
  }
}

@ApiTags('publications')
@ApiSecurity('token')
@RequireRole('coordinator')
@Controller('remote-catalog/:rcid/publication')
export class CatalogPublicationsController {
  constructor(private readonly publications: PublicationsService) {}

  @Get()
  @ApiOperation({ summary: "A remote catalog's publications, by entity type id" })
  async list(@Param('rcid') rcid: string, @Urls() urls: ResourceUrls) {
    return (await this.publications.listForCatalog(rcid.toLowerCase())).map((item) => publicationView(urls, item));
  }
}
