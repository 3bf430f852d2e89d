import { DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { connectNats } from '../connection';
import { EventOutbox } from '../outbox';
import { RpcClient } from '../rpc';
import { MessagingRuntime } from './messaging.runtime';
import { MESSAGING_OPTIONS, MessagingModuleOptions, NATS_CONNECTION } from './tokens';
import { NatsConnection } from 'nats';

/**
 * The event backbone for a service: `EventOutbox` to write events in a
 * transaction, `@OnDomainEvent` handlers, `@OnRpcRequest` responders and an
 * `RpcClient`. Needs TypeORM's DataSource in the application.
 */
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingModuleOptions): DynamicModule {
    return {
      global: true,
      module: MessagingModule,
      imports: [DiscoveryModule],
      providers: [
        { provide: MESSAGING_OPTIONS, useValue: options },
        {
          provide: NATS_CONNECTION,
          useFactory: () => connectNats({ url: options.natsUrl, name: options.serviceName }),
        },
        { provide: EventOutbox, useValue: new EventOutbox(options.serviceName) },
        {
          provide: RpcClient,
          inject: [NATS_CONNECTION],
          useFactory: (nc: NatsConnection) => new RpcClient(nc, options.namespace),
        },
        MessagingRuntime,
      ],
      exports: [NATS_CONNECTION, EventOutbox, RpcClient, MESSAGING_OPTIONS],
    };
  }
}
