import { Injectable } from '@nestjs/common';
import { isDeepStrictEqual } from 'util';
import type { Schema } from 'jsonschema';
import { DataSource } from 'typeorm';
import { EventSubjects } from '@odb/contracts';
import {
  DATASET_METADATA_SCHEMA,
  DatasetMetadata,
  checkDatasetMetadata,
  normalizeDatasetMetadata,
  readDatasetMetadata,
} from '@odb/catalog-connectors';
import { EventOutbox } from '@odb/messaging';
import { EntityTypeEntity } from '@odb/persistence';
import { ApiError } from '@odb/platform';
import { BbkValidator } from '@odb/validation';
import { Body, rejectInvalid } from '../common/bbk-request';

/**
 * Publishing metadata of an entity type, a sub-resource of it so that the
 * entity documents of BitBroker's contract stay exactly as they are. A change
 * is an entity type change: its version goes up and `entity-type.updated`
 * says `metadata` changed, which is what catalog publications react to.
 */
@Injectable()
export class DatasetMetadataService {
  private readonly validator = new BbkValidator();

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: EventOutbox,
  ) {}

  async get(slug: string): Promise<DatasetMetadata> {
    const type = await this.dataSource.getRepository(EntityTypeEntity).findOneBy({ slug });
    if (!type) throw ApiError.notFound();
    return readDatasetMetadata(type.datasetMetadata);
  }

  /** Replaces the whole metadata (`{}` clears it). */
  async replace(slug: string, body: Body): Promise<void> {
    const errors = this.validator.check(body, DATASET_METADATA_SCHEMA as unknown as Schema);
    if (errors.length === 0) {
      errors.push(...checkDatasetMetadata(body as DatasetMetadata).map((problem) => ({ ...problem, index: null })));
    }
    rejectInvalid(errors);
    const metadata = normalizeDatasetMetadata(body as DatasetMetadata);
    await this.dataSource.transaction(async (manager) => {
      const current = await manager.findOne(EntityTypeEntity, { where: { slug }, lock: { mode: 'pessimistic_write' } });
      if (!current) throw ApiError.notFound();
      if (isDeepStrictEqual(readDatasetMetadata(current.datasetMetadata), readDatasetMetadata(metadata))) return; // nothing to write, event included
      const changed = ['metadata'];
      await manager.query(`UPDATE entity_type SET dataset_metadata = $2, version = version + 1, updated_at = now() WHERE id = $1`, [
        current.id,
        JSON.stringify(metadata),
      ]);
      await this.outbox.append(manager, EventSubjects.EntityTypeUpdated, { entityTypeId: slug, changed });
    });
  }
}
