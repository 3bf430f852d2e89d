import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuthenticatedRequest, RequireRole } from '@odb/auth';
import { ApiError } from '@odb/platform';
import { ContributionError } from './contribution-error';
import { ContributionService } from './contribution.service';

/** The Contributor API: sessions and record batches of one connector (its contribution id in the path). */
@ApiTags('sessions')
@ApiSecurity('token')
@RequireRole('contributor')
@Controller('connector/:cid/session')
export class SessionsController {
  constructor(private readonly contributions: ContributionService) {}

  @Get('open/:mode')
  @ApiOperation({ summary: 'Open a session (stream, accrue or replace): 200 with the session id as a JSON string' })
  async open(@Param('cid') cid: string, @Param('mode') mode: string, @Req() request: AuthenticatedRequest, @Res() response: Response) {
    ownConnectorOnly(request, cid);
    response.json(await translate(this.contributions.open(cid, mode.toLowerCase())));
  }

  @Post(':sid/:action')
  @HttpCode(200)
  @ApiOperation({ summary: 'Upsert records or delete them by id (at most 250): 200 with {vendor id: public id}' })
  async write(
    @Param('cid') cid: string,
    @Param('sid') sid: string,
    @Param('action') action: string,
    @Req() request: AuthenticatedRequest,
    @Res() response: Response,
  ) {
    ownConnectorOnly(request, cid);
    // No body reads as {} (as Express 4 did for BitBroker): "is not of a type(s) array", not a crash.
    const written = await translate(this.contributions.write(cid, sid, action.toLowerCase(), request.body ?? {}));
    response.status(200).type('json').send(written.idsJson());
  }

  @Get(':sid/close/:commit')
  @ApiOperation({ summary: 'Close the session: commit (true) or discard (false) its operations' })
  async close(
    @Param('cid') cid: string,
    @Param('sid') sid: string,
    @Param('commit') commit: string,
    @Req() request: AuthenticatedRequest,
    @Res() response: Response,
  ) {
    ownConnectorOnly(request, cid);
    await translate(this.contributions.close(cid, sid, commit.toLowerCase()));
    response.status(200).send();
  }
}

/** Unlike BitBroker, a contributor token works for its own connector only. */
function ownConnectorOnly(request: AuthenticatedRequest, contributionId: string): void {
  if (request.auth?.keyId && request.auth.context !== contributionId) throw ApiError.forbidden();
}

async function translate<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (!(error instanceof ContributionError)) throw error;
    if (error.code === 400) throw ApiError.badRequest(error.errors);
    if (error.code === 401) throw ApiError.unauthorized();
    if (error.code === 403) throw ApiError.forbidden();
    throw ApiError.notFound();
  }
}
