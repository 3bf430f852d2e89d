import { StartServiceOptions, loadConfig } from '@odb/platform';
import { CatalogPublisherConfig } from './config';
import { CatalogPublisherModule } from './catalog-publisher.module';

/** How the catalog-publisher service is made: used by main.ts and by tests that run it in-process. */
export const catalogPublisherService: StartServiceOptions<CatalogPublisherConfig> = {
  name: 'catalog-publisher',
  loadConfig: (env) => loadConfig(CatalogPublisherConfig, env),
  module: (config) => CatalogPublisherModule.forRoot(config),
};
