import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { NatsConnection } from 'nats';
import { NATS_CONNECTION, checkNats } from '@odb/messaging';
import { ReadinessRegistry } from './readiness';

/** Registers the probes of the dependencies every service has: PostgreSQL and NATS. */
@Injectable()
export class CoreReadinessProbes implements OnModuleInit {
  constructor(
    private readonly registry: ReadinessRegistry,
    private readonly dataSource: DataSource,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
  ) {}

  onModuleInit(): void {
    this.registry.register({
      name: 'database',
      check: async () => {
        await this.dataSource.query('SELECT 1');
      },
    });
    this.registry.register({ name: 'nats', check: () => checkNats(this.nc) });
  }
}
