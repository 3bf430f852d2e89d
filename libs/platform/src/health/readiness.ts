import { Injectable } from '@nestjs/common';

export interface ReadinessProbe {
  /** e.g. `database`, `nats`, `redis`. */
  name: string;
  /** Resolves when the dependency answers; rejects with the reason otherwise. */
  check(): Promise<void>;
}

export interface ReadinessReport {
  status: 'ready' | 'not-ready';
  checks: Record<string, { status: 'up' | 'down'; latencyMs: number; error?: string }>;
}

/** Dependencies the service needs to serve traffic; each module registers its own. */
@Injectable()
export class ReadinessRegistry {
  private readonly probes = new Map<string, ReadinessProbe>();

  register(probe: ReadinessProbe): void {
    this.probes.set(probe.name, probe);
  }

  async report(timeoutMs = 2000): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.probes.values()].map(async (probe) => {
        const started = Date.now();
        try {
          await withTimeout(probe.check(), timeoutMs, `${probe.name} did not answer within ${timeoutMs} ms`);
          return [probe.name, { status: 'up' as const, latencyMs: Date.now() - started }] as const;
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          return [probe.name, { status: 'down' as const, latencyMs: Date.now() - started, error: message }] as const;
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    const ready = entries.every(([, result]) => result.status === 'up');
    return { status: ready ? 'ready' : 'not-ready', checks };
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
