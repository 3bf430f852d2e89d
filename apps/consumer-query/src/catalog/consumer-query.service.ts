import { Inject, Injectable } from '@nestjs/common';
import { AuthOptions, AUTH_OPTIONS } from '@odb/auth';
import { ApiError } from '@odb/platform';
import { BbkValidator, FieldError } from '@odb/validation';
import { PolicyLimiter } from '../limits/policy-limiter';
import { ActivePolicy, PolicyResolver } from '../policies/policy-resolver';
import { Page, Visibility } from './catalog-reader';

/** At most this many staged connectors can be previewed in one request (BitBroker's limit). */
export const MAX_PREVIEWED_CONNECTORS = 16;

export interface ConsumerContext {
  policy: ActivePolicy;
  visibility: Visibility;
  /** Rate-limit headers to send with the answer. */
  headers: Record<string, string>;
}

/** Resolves who is asking and what they may see, and checks their policy's rate and quota. */
@Injectable()
export class ConsumerContextResolver {
  private readonly validator = new BbkValidator();

  constructor(
    private readonly policies: PolicyResolver,
    private readonly limiter: PolicyLimiter,
    @Inject(AUTH_OPTIONS) private readonly auth: AuthOptions,
  ) {}

  /** 403 without a known policy; 429 (with Retry-After) past its rate or quota. */
  async resolve(policySlug: string, connectorsHeader: string | undefined): Promise<ConsumerContext> {
    const policy = await this.policies.resolve(policySlug);
    if (!policy) throw ApiError.forbidden();
    let headers: Record<string, string> = {};
    // Local mode has no authenticated consumer: like BitBroker without its gateway, nothing is counted.
    if (this.auth.mode === 'enforced') {
      const decision = await this.limiter.check(policy.slug, policy.policy.access_control);
      headers = decision.headers;
      if (!decision.allowed) throw ApiError.tooManyRequests(headers);
    }
    return { policy, visibility: { segment: policy.policy.data_segment?.segment_query ?? {}, stagedConnectors: stagedConnectors(connectorsHeader) }, headers };
  }

  /** `limit` (1–250, default 250) and `offset` (≥ 0, default 0), read as BitBroker did (parseFloat). */
  page(limit: unknown, offset: unknown): { page: Page; errors: FieldError[] } {
    const page = {
      limit: typeof limit === 'string' && limit !== '' ? parseFloat(limit) : 250,
      offset: typeof offset === 'string' && offset !== '' ? parseFloat(offset) : 0,
    };
    return { page, errors: this.validator.check(page, 'paging') };
  }
}

export function stagedConnectors(header: string | undefined): string[] {
  return (header ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id.length > 0)
    .slice(0, MAX_PREVIEWED_CONNECTORS);
}
