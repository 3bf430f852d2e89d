import { Module } from '@nestjs/common';
import { DatasetMetadataService } from './dataset-metadata.service';
import { CatalogPublicationsController, EntityPublicationsController } from './publications.controller';
import { PublicationsService } from './publications.service';

/** Dataset metadata of entity types and their publications to remote catalogs (the catalog publisher does the pushing). */
@Module({
  controllers: [EntityPublicationsController, CatalogPublicationsController],
  providers: [PublicationsService, DatasetMetadataService],
})
export class PublicationsModule {}
