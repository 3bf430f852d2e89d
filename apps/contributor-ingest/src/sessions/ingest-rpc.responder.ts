import { Injectable } from '@nestjs/common';
import { RpcContracts, RpcSubjects } from '@odb/contracts';
import { OnRpcRequest, RpcError } from '@odb/messaging';
import { ContributionError } from './contribution-error';
import { ContributionService } from './contribution.service';

type Request<S extends keyof RpcContracts> = RpcContracts[S]['request'];
type Response<S extends keyof RpcContracts> = RpcContracts[S]['response'];

/**
 * The Contributor API's semantics over NATS request/reply, for the harvester
 * writing under connectors it owns (trusted, inside the platform: no token),
 * with batches of up to MAX_RPC_BATCH records.
 */
@Injectable()
export class IngestRpcResponder {
  constructor(private readonly contributions: ContributionService) {}

  @OnRpcRequest(RpcSubjects.IngestOpenSession)
  async open(request: Request<'ingest.session.open'>): Promise<Response<'ingest.session.open'>> {
    return { sessionId: await rpc(this.contributions.open(request.contributionId, request.mode)) };
  }

  @OnRpcRequest(RpcSubjects.IngestWrite)
  async write(request: Request<'ingest.session.write'>): Promise<Response<'ingest.session.write'>> {
    const { ids, changed } = await rpc(this.contributions.write(request.contributionId, request.sessionId, request.action, request.records));
    return request.ids === true ? { ids: ids(), changed } : { changed };
  }

  @OnRpcRequest(RpcSubjects.IngestCloseSession)
  async close(request: Request<'ingest.session.close'>): Promise<Response<'ingest.session.close'>> {
    return { applied: await rpc(this.contributions.close(request.contributionId, request.sessionId, String(request.commit))) };
  }
}

async function rpc<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof ContributionError) throw new RpcError(error.code, error.message, error.errors);
    throw error;
  }
}
