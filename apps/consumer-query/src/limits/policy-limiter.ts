import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { PolicyDocument } from '@odb/persistence';
import { REDIS_CLIENT } from '@odb/platform';

export interface LimitDecision {
  allowed: boolean;
  /** Headers for the response (IETF RateLimit fields, and Retry-After when refused). */
  headers: Record<string, string>;
}

// One round trip: count this request in the current second and the current quota period.
const COUNT = `
local second = redis.call('INCR', KEYS[1])
if second == 1 then redis.call('EXPIRE', KEYS[1], 2) end
local period = 0
if KEYS[2] ~= '' then
  period = redis.call('INCR', KEYS[2])
  if period == 1 then redis.call('EXPIREAT', KEYS[2], ARGV[1]) end
end
return {second, period}`;

/**
 * A policy's access control, counted in Redis so that every replica shares
 * the counts: `rate` requests per wall-clock second and `quota.max_number` per
 * calendar day or month (UTC), for all keys of the policy together, as
 * BitBroker's rate service did. `enabled: false` refuses everything. A rate or
 * quota of 0 (or none) means no limit of that kind.
 */
@Injectable()
export class PolicyLimiter {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: Redis) {}

  async check(slug: string, accessControl: PolicyDocument['access_control'], now = new Date()): Promise<LimitDecision> {
    if (!accessControl?.enabled) return { allowed: false, headers: { 'Retry-After': '3600' } };
    const rate = accessControl.rate ?? 0;
    const quota = accessControl.quota?.max_number ?? 0;
    if (!rate && !quota) return { allowed: true, headers: {} };

    const second = Math.floor(now.getTime() / 1000);
    const monthly = accessControl.quota?.interval_type !== 'day';
    const periodKey = monthly ? now.toISOString().slice(0, 7) : now.toISOString().slice(0, 10);
    const periodEnd = monthly
      ? Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)
      : Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
    const [inSecond, inPeriod] = (await this.redis.eval(
      COUNT,
      2,
      `limit:rate:${slug}:${second}`,
      quota ? `limit:quota:${slug}:${periodKey}` : '',
      String(Math.ceil(periodEnd / 1000) + 60),
    )) as [number, number];

    const headers: Record<string, string> = {};
    const untilPeriodEnd = Math.max(1, Math.ceil((periodEnd - now.getTime()) / 1000));
    if (rate) {
      headers['RateLimit-Limit'] = String(rate);
      headers['RateLimit-Remaining'] = String(Math.max(0, rate - inSecond));
      headers['RateLimit-Reset'] = '1';
    }
    if (quota) headers['X-Quota-Remaining'] = String(Math.max(0, quota - inPeriod));
    if (quota && inPeriod > quota) return { allowed: false, headers: { ...headers, 'Retry-After': String(untilPeriodEnd) } };
    if (rate && inSecond > rate) return { allowed: false, headers: { ...headers, 'Retry-After': '1' } };
    return { allowed: true, headers };
  }
}
