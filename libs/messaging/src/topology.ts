import { JetStreamManager, RetentionPolicy, StorageType, nanos } from 'nats';
import { deadLetterSubject, wireSubject } from '@odb/contracts';

/** Names of the streams and subjects of one deployment (or one test file). */
export class EventTopology {
  constructor(readonly namespace: string) {
    if (!/^[A-Za-z0-9_-]+$/.test(namespace)) {
      throw new Error(`event namespace must match [A-Za-z0-9_-]+, got "${namespace}"`);
    }
  }

  get eventStream(): string {
    return `${this.namespace.toUpperCase()}_EVENTS`;
  }

  get deadLetterStream(): string {
    return `${this.namespace.toUpperCase()}_DLQ`;
  }

  /** Durable names are per deployment already (the stream is), so only sanitise. */
  durableName(consumer: string): string {
    return consumer.replace(/[^A-Za-z0-9_-]/g, '_');
  }

  /** Creates the streams, or brings their configuration up to date. Safe to call from every replica. */
  async ensureStreams(jsm: JetStreamManager, options: { eventRetentionDays?: number } = {}): Promise<void> {
    const day = 24 * 3600 * 1000;
    await this.ensureStream(jsm, {
      name: this.eventStream,
      subjects: [wireSubject(this.namespace, '>')],
      max_age: nanos((options.eventRetentionDays ?? 7) * day),
    });
    await this.ensureStream(jsm, {
      name: this.deadLetterStream,
      subjects: [deadLetterSubject(this.namespace, '>')],
      max_age: nanos(30 * day),
    });
  }

  private async ensureStream(jsm: JetStreamManager, config: { name: string; subjects: string[]; max_age: number }) {
    const full = {
      ...config,
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      // The outbox relay may publish a row again after a crash: the id de-duplicates it.
      duplicate_window: nanos(5 * 60 * 1000),
    };
    try {
      await jsm.streams.info(config.name);
      await jsm.streams.update(config.name, full);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await jsm.streams.add(full).catch(async (addError: unknown) => {
        // Another replica created it between our info and add.
        if (!String(addError).includes('already in use')) throw addError;
      });
    }
  }
}

function isNotFound(error: unknown): boolean {
  return String((error as Error)?.message ?? error).includes('not found');
}
