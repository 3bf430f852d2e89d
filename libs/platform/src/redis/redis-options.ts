import type { RedisOptions } from 'ioredis';

/**
 * ioredis options for a `redis://` or `rediss://` URL, e.g. BullMQ's
 * `connection`: BullMQ hands that object to ioredis, which ignores a `url`
 * field (it would silently connect to 127.0.0.1:6379), so the URL must be
 * taken apart (host, port, credentials, database, TLS).
 */
export function redisOptionsFromUrl(url: string): RedisOptions {
  const parsed = new URL(url);
  const db = parsed.pathname.replace(/^\//, '');
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: Number(parsed.port || 6379),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db && /^\d+$/.test(db) ? { db: Number(db) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}
