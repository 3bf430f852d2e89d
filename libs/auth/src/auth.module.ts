import { DynamicModule, Inject, Injectable, Module, OnApplicationBootstrap } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { APP_GUARD } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { DomainEvent, EventSubjects } from '@odb/contracts';
import { EventOutbox, NATS_CONNECTION, OnDomainEventBroadcast } from '@odb/messaging';
import { AUTH_OPTIONS, AuthOptions, TokenGuard } from './auth.guard';
import { AuthKeyStore } from './key-store';
import { TokenVerifier } from './token-verifier';

/**
 * Every replica hears every revocation, so a revoked key fails everywhere
 * within a second. Revocations broadcast while this replica was disconnected
 * are lost, so a reconnection empties the key cache.
 */
@Injectable()
class RevocationListener implements OnApplicationBootstrap {
  constructor(
    private readonly verifier: TokenVerifier,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
  ) {}

  onApplicationBootstrap(): void {
    void (async () => {
      for await (const status of this.nc.status()) if (status.type === 'reconnect') this.verifier.clear();
    })();
  }

  @OnDomainEventBroadcast(EventSubjects.KeysRevoked)
  async onKeysRevoked(event: DomainEvent<'keys.revoked'>): Promise<void> {
    this.verifier.markRevoked(event.payload.keyIds);
  }
}

/** Token checks done by each service itself (no gateway needed). */
@Module({})
export class AuthModule {
  static forRoot(options: AuthOptions): DynamicModule {
    return {
      global: true,
      module: AuthModule,
      providers: [
        { provide: AUTH_OPTIONS, useValue: options },
        { provide: TokenVerifier, inject: [DataSource], useFactory: (dataSource: DataSource) => new TokenVerifier(dataSource) },
        { provide: AuthKeyStore, inject: [EventOutbox], useFactory: (outbox: EventOutbox) => new AuthKeyStore(outbox) },
        { provide: APP_GUARD, useClass: TokenGuard },
        RevocationListener,
      ],
      exports: [TokenVerifier, AuthKeyStore, AUTH_OPTIONS],
    };
  }
}
