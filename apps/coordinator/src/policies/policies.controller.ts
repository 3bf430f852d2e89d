import { Controller, Delete, Get, HttpCode, Param, Post, Put, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { RequireRole } from '@odb/auth';
import { PolicyEntity } from '@odb/persistence';
import { ResourceUrls, Urls } from '@odb/platform';
import { bodyOf } from '../common/bbk-request';
import { PoliciesService } from './policies.service';

function policyBrief(urls: ResourceUrls, policy: PolicyEntity) {
  return { id: policy.slug, url: urls.to('policy', policy.slug), name: policy.name, description: policy.description, tags: policy.tags };
}

@ApiTags('policies')
@ApiSecurity('token')
@RequireRole('coordinator')
@Controller('policy')
export class PoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  @Get()
  @ApiOperation({ summary: 'List policies, sorted by id' })
  async list(@Urls() urls: ResourceUrls) {
    return (await this.policies.list()).map((policy) => policyBrief(urls, policy));
  }

  @Get(':pid')
  @ApiOperation({ summary: 'Get a policy' })
  async get(@Param('pid') pid: string, @Urls() urls: ResourceUrls) {
    const policy = await this.policies.get(pid.toLowerCase());
    return { ...policyBrief(urls, policy), policy: policy.policy };
  }

  @Get(':pid/access-control')
  @ApiOperation({ summary: "A policy's access control (enabled, rate, quota)" })
  async accessControl(@Param('pid') pid: string) {
    return (await this.policies.get(pid.toLowerCase())).policy.access_control;
  }

  @Post(':pid')
  @ApiOperation({ summary: 'Create a policy (201 + Location)' })
  async create(@Param('pid') pid: string, @Req() request: Request, @Res() response: Response, @Urls() urls: ResourceUrls) {
    await this.policies.create(pid.toLowerCase(), bodyOf(request));
    response.location(urls.location()).status(201).send();
  }

  @Put(':pid')
  @HttpCode(204)
  @ApiOperation({ summary: 'Update a policy' })
  async update(@Param('pid') pid: string, @Req() request: Request) {
    await this.policies.update(pid.toLowerCase(), bodyOf(request));
  }

  @Delete(':pid')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a policy and its accesses (their keys are revoked)' })
  async delete(@Param('pid') pid: string) {
    await this.policies.delete(pid.toLowerCase());
  }
}
