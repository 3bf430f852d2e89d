import { Controller, Delete, Get, HttpCode, Param, Post, Put, Res } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RequireRole } from '@odb/auth';
import { ResourceUrls, Urls } from '@odb/platform';
import { AccessesService, AccessView } from './accesses.service';

function accessView(urls: ResourceUrls, access: AccessView) {
  return {
    id: access.policySlug,
    url: urls.to('user', access.userId, 'access', access.policySlug),
    policy: { id: access.policySlug, url: urls.to('policy', access.policySlug) },
    created: access.createdAt,
  };
}

@ApiTags('accesses')
@ApiSecurity('token')
@RequireRole('coordinator')
@Controller('user/:uid/access')
export class AccessesController {
  constructor(private readonly accesses: AccessesService) {}

  @Get()
  @ApiOperation({ summary: "List a user's accesses (consumer keys), in creation order" })
  async list(@Param('uid') uid: string, @Urls() urls: ResourceUrls) {
    return (await this.accesses.list(uid)).map((access) => accessView(urls, access));
  }

  @Get(':pid')
  @ApiOperation({ summary: 'Get an access' })
  async get(@Param('uid') uid: string, @Param('pid') pid: string, @Urls() urls: ResourceUrls) {
    return accessView(urls, await this.accesses.get(uid, pid.toLowerCase()));
  }

  @Post(':pid')
  @ApiOperation({ summary: 'Give the user access to a policy: 201 with the consumer token' })
  async create(@Param('uid') uid: string, @Param('pid') pid: string, @Res() response: Response, @Urls() urls: ResourceUrls) {
    const token = await this.accesses.create(uid, pid.toLowerCase());
    response.location(urls.location()).status(201).send(token);
  }

  @Put(':pid')
  @ApiOperation({ summary: 'Reissue the consumer token: 200 with the new token; the old one is revoked' })
  async reissue(@Param('uid') uid: string, @Param('pid') pid: string, @Res() response: Response) {
    response.status(200).send(await this.accesses.reissue(uid, pid.toLowerCase()));
  }

  @Delete(':pid')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an access; its key is revoked' })
  async delete(@Param('uid') uid: string, @Param('pid') pid: string) {
    await this.accesses.delete(uid, pid.toLowerCase());
  }
}
