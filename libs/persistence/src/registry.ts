import { OutboxEventEntity } from './entities/outbox-event.entity';
import { ProcessedEventEntity } from './entities/processed-event.entity';
import { Foundation1732300000000 } from './migrations/1732300000000-foundation';
import { Coordinator1732300000100 } from './migrations/1732300000100-coordinator';
import { Catalog1732300000200 } from './migrations/1732300000200-catalog';
import { CatalogConnections1732300000300 } from './migrations/1732300000300-catalog-connections';
import { Harvesting1732300000400 } from './migrations/1732300000400-harvesting';
import { RemoteCatalogEntity } from './entities/remote-catalog.entity';
import { PublicationEntity } from './entities/publication.entity';
import { Publishing1732300000500 } from './migrations/1732300000500-publishing';
import { RecordBuckets1732300000900 } from './migrations/1732300000900-record-buckets';
import { RecordWritePath1732300001000 } from './migrations/1732300001000-record-write-path';
import { OutboxPayloadCompression1732300001100 } from './migrations/1732300001100-outbox-payload-compression';
import { OutboxWakeUpInProcess1732300001200 } from './migrations/1732300001200-outbox-wake-up-in-process';
import {
  AccessEntity,
  AuthKeyEntity,
  ConnectorEntity,
  EntityTypeEntity,
  PolicyEntity,
  UserEntity,
} from './entities/coordinator.entities';

/** Every TypeORM entity of the platform (one database; each service owns its tables). */
export const ENTITIES = [
  OutboxEventEntity,
  ProcessedEventEntity,
  AuthKeyEntity,
  UserEntity,
  EntityTypeEntity,
  ConnectorEntity,
  PolicyEntity,
  AccessEntity,
  RemoteCatalogEntity,
  PublicationEntity,
];

/** Every migration, in order. New migrations are appended here. */
export const MIGRATIONS = [
  Foundation1732300000000,
  Coordinator1732300000100,
  Catalog1732300000200,
  CatalogConnections1732300000300,
  Harvesting1732300000400,
  Publishing1732300000500,
  RecordBuckets1732300000900,
  RecordWritePath1732300001000,
  OutboxPayloadCompression1732300001100,
  OutboxWakeUpInProcess1732300001200,
];
