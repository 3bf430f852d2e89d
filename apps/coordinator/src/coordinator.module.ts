import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '@odb/auth';
import { ServiceCoreModule, announceController } from '@odb/platform';
import { AccessesController } from './accesses/accesses.controller';
import { AccessesService } from './accesses/accesses.service';
import { BootstrapUser } from './bootstrap/bootstrap-user';
import { CoordinatorConfig } from './config';
import { ConnectorsController } from './connectors/connectors.controller';
import { ConnectorsService } from './connectors/connectors.service';
import { EntityTypesController } from './entity-types/entity-types.controller';
import { EntityTypesService } from './entity-types/entity-types.service';
import { HarvestProvisioningResponder } from './harvest-sources/harvest-provisioning.responder';
import { HarvestSourcesController } from './harvest-sources/harvest-sources.controller';
import { HarvestSourcesService } from './harvest-sources/harvest-sources.service';
import { PoliciesController } from './policies/policies.controller';
import { PoliciesService } from './policies/policies.service';
import { PublicationsModule } from './publications/publications.module';
import { RemoteCatalogsController } from './remote-catalogs/remote-catalogs.controller';
import { RemoteCatalogsService } from './remote-catalogs/remote-catalogs.service';
import { SearchController } from './search/search.controller';
import { UsersController } from './users/users.controller';
import { UsersService } from './users/users.service';

@Module({})
export class CoordinatorModule {
  static forRoot(config: CoordinatorConfig): DynamicModule {
    return {
      module: CoordinatorModule,
      imports: [ServiceCoreModule.forRoot({ serviceName: 'coordinator', config }), AuthModule.forRoot({ mode: config.AUTH_MODE }), PublicationsModule],
      controllers: [
        announceController('coordinator'),
        EntityTypesController,
        ConnectorsController,
        PoliciesController,
        UsersController,
        AccessesController,
        SearchController,
        RemoteCatalogsController,
        HarvestSourcesController,
      ],
      providers: [EntityTypesService, ConnectorsService, PoliciesService, UsersService, AccessesService, BootstrapUser, RemoteCatalogsService, HarvestSourcesService, HarvestProvisioningResponder],
    };
  }
}
