import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { IncomingHttpHeaders } from 'http';
import { KeyRole } from '@odb/persistence';
import { ApiError } from '@odb/platform';
import { TokenVerifier } from './token-verifier';

export const AUTH_OPTIONS = Symbol('AUTH_OPTIONS');
const REQUIRED_ROLE = 'odb:required-role';

export type AuthMode = 'enforced' | 'local';

export interface AuthOptions {
  mode: AuthMode;
}

/** Who is calling, once the guard let the request through. */
export interface RequestAuth {
  role: KeyRole;
  /** '' for a coordinator, the contribution id for a contributor, the policy slug for a consumer. */
  context: string;
  /** null in local mode. */
  keyId: string | null;
}

/** A request of either HTTP adapter (Express or Fastify), with who is calling once the guard let it through. */
export interface AuthenticatedRequest {
  headers: IncomingHttpHeaders;
  body?: unknown;
  auth?: RequestAuth;
}

export const TOKEN_HEADER = 'x-bbk-auth-token';
/** Local mode only: the consumer's policy, as BitBroker's gateway would have set it. */
export const AUDIENCE_HEADER = 'x-bbk-audience';

/** Routes of this controller (or this handler) need a token of `role`. */
export const RequireRole = (role: KeyRole) => SetMetadata(REQUIRED_ROLE, role);

/**
 * Checks `x-bbk-auth-token` on every route that requires a role, the way
 * BitBroker's gateway did: missing, unknown or wrong-role tokens get 401, a
 * revoked key 403. In local mode (AUTH_MODE=local) no token is needed and a
 * consumer's policy comes from `x-bbk-audience`.
 */
@Injectable()
export class TokenGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
    @Inject(AUTH_OPTIONS) private readonly options: AuthOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const role = this.reflector.getAllAndOverride<KeyRole | undefined>(REQUIRED_ROLE, [context.getHandler(), context.getClass()]);
    if (!role) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (this.options.mode === 'local') {
      request.auth = { role, context: role === 'consumer' ? headerValue(request, AUDIENCE_HEADER) : '', keyId: null };
      return true;
    }
    const token = headerValue(request, TOKEN_HEADER);
    if (!token) throw ApiError.unauthorized();
    const key = await this.verifier.verify(token);
    if (!key || key.role !== role) throw ApiError.unauthorized();
    if (key.revoked) throw ApiError.forbidden();
    request.auth = { role: key.role, context: key.context, keyId: key.keyId };
    return true;
  }
}

function headerValue(request: AuthenticatedRequest, name: string): string {
  const value = request.headers[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() ?? '';
}
