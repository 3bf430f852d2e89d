export * from './data-source';
export * from './registry';
export * from './entities/outbox-event.entity';
export * from './entities/processed-event.entity';
export * from './entities/coordinator.entities';
export * from './entities/remote-catalog.entity';
export * from './entities/publication.entity';
