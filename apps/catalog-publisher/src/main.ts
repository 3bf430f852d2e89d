import { loadConfig, startService } from '@odb/platform';
import { CatalogPublisherConfig } from './config';
import { CatalogPublisherModule } from './catalog-publisher.module';

void startService({
  name: 'catalog-publisher',
  loadConfig: () => loadConfig(CatalogPublisherConfig),
  module: (config) => CatalogPublisherModule.forRoot(config),
});
