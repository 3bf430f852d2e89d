import { loadConfig, startService } from '@odb/platform';
import { CoordinatorConfig } from './config';
import { CoordinatorModule } from './coordinator.module';

void startService({
  name: 'coordinator',
  loadConfig: () => loadConfig(CoordinatorConfig),
  module: (config) => CoordinatorModule.forRoot(config),
  restApi: {
    title: 'Coordinator API',
    description: 'Administration: users, consumer keys, entity types, data connectors, access policies, remote catalogs, harvest sources and publications (BitBroker-compatible).',
  },
});
