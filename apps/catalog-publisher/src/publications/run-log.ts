import { redactSecrets } from '@odb/catalog-connectors';
import { PublicationLogEntry } from '@odb/persistence';

/** Lines kept per run: a run that retries a lot must not grow the row without bound. */
const MAX_ENTRIES = 50;

/** The log of one run of a publication (what the API shows as `log`), with secrets masked. */
export class RunLog {
  readonly entries: PublicationLogEntry[] = [];

  constructor(private readonly secrets: readonly (string | undefined)[] = []) {}

  info(message: string): void {
    this.add('info', message);
  }

  warn(message: string): void {
    this.add('warn', message);
  }

  error(message: string): void {
    this.add('error', message);
  }

  /** Masks the secrets this run knows of (the catalog's API key). */
  redact(text: string): string {
    return redactSecrets(text, this.secrets);
  }

  private add(level: PublicationLogEntry['level'], message: string): void {
    if (this.entries.length >= MAX_ENTRIES) this.entries.splice(1, 1);
    this.entries.push({ at: new Date().toISOString(), level, message: this.redact(message) });
  }
}
