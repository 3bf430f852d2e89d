import { DynamicModule, Injectable, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { DomainEvent, EventSubjects } from '@odb/contracts';
import { EventOutbox, OnDomainEventBroadcast } from '@odb/messaging';
import { AUTH_OPTIONS, AuthOptions, TokenGuard } from './auth.guard';
import { AuthKeyStore } from './key-store';
import { TokenVerifier } from './token-verifier';

/** Every replica hears every revocation, so a revoked key fails everywhere within a second. */
@Injectable()
class RevocationListener {
  constructor(private readonly verifier: TokenVerifier) {}

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
