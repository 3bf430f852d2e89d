import { Inject, Injectable, Logger } from '@nestjs/common';
import { SERVICE_CONFIG } from '@odb/platform';
import { ConsumerQueryConfig } from '../config';

/**
 * Calls a connector's webhook for live data. A slow, failing or malformed
 * answer never fails the consumer's request: the caller falls back.
 */
@Injectable()
export class WebhookClient {
  private readonly logger = new Logger('WebhookClient');

  constructor(@Inject(SERVICE_CONFIG) private readonly config: ConsumerQueryConfig) {}

  /** The JSON the webhook answered, or undefined on any failure (timeout, status, body). */
  async getJson(url: string): Promise<unknown> {
    try {
      const response = await fetch(url, {
        headers: { Accept: 'application/json, text/plain', 'Content-Type': 'application/json' },
        signal: AbortSignal.timeout(this.config.WEBHOOK_TIMEOUT_MS),
        redirect: 'error',
      });
      if (!response.ok) throw new Error(`status ${response.status}`);
      return await response.json();
    } catch (error) {
      this.logger.warn(`webhook ${new URL(url).origin} failed: ${(error as Error).message}`);
      return undefined;
    }
  }
}
