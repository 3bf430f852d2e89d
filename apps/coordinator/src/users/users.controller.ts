import { Controller, Delete, Get, HttpCode, Param, Post, Put, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { RequireRole } from '@odb/auth';
import { ResourceUrls, Urls } from '@odb/platform';
import { bodyOf } from '../common/bbk-request';
import { UsersService, UserWithAccesses } from './users.service';

function userBrief(urls: ResourceUrls, { user, accesses }: UserWithAccesses) {
  return {
    id: user.id,
    url: urls.to('user', user.id),
    name: user.name,
    email: user.email,
    organization: user.organization,
    coordinator: user.coordinatorKeyId !== null,
    accesses: accesses.map((slug) => ({ id: slug, url: urls.to('user', user.id, 'access', slug) })),
  };
}

function userFull(urls: ResourceUrls, found: UserWithAccesses) {
  return { ...userBrief(urls, found), addendum: found.user.addendum };
}

@ApiTags('users')
@ApiSecurity('token')
@RequireRole('coordinator')
@Controller('user')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOperation({ summary: 'List users, sorted by id' })
  async list(@Urls() urls: ResourceUrls) {
    return (await this.users.list()).map((user) => userBrief(urls, user));
  }

  @Get('email/:email')
  @ApiOperation({ summary: 'Find a user by email (case-insensitive)' })
  async byEmail(@Param('email') email: string, @Urls() urls: ResourceUrls) {
    return userFull(urls, await this.users.getByEmail(email));
  }

  @Get(':uid')
  @ApiOperation({ summary: 'Get a user' })
  async get(@Param('uid') uid: string, @Urls() urls: ResourceUrls) {
    return userFull(urls, await this.users.get(uid));
  }

  @Post()
  @ApiOperation({ summary: 'Create a user (201, Location …/user/<id>)' })
  async create(@Req() request: Request, @Res() response: Response, @Urls() urls: ResourceUrls) {
    const id = await this.users.create(bodyOf(request));
    response.location(urls.location(id)).status(201).send();
  }

  @Put(':uid')
  @HttpCode(204)
  @ApiOperation({ summary: 'Update a user (the email cannot change)' })
  async update(@Param('uid') uid: string, @Req() request: Request) {
    await this.users.update(uid, bodyOf(request));
  }

  @Delete(':uid')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a user; all their keys are revoked' })
  async delete(@Param('uid') uid: string) {
    await this.users.delete(uid);
  }

  @Post(':uid/coordinator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Make the user a coordinator: 200 with the coordinator token' })
  async promote(@Param('uid') uid: string, @Res() response: Response) {
    response.status(200).send(await this.users.promote(uid));
  }

  @Delete(':uid/coordinator')
  @HttpCode(204)
  @ApiOperation({ summary: "Remove the user's coordinator role; the key is revoked" })
  async demote(@Param('uid') uid: string) {
    await this.users.demote(uid);
  }
}
