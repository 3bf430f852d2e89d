import { StartServiceOptions, loadConfig } from '@odb/platform';
import { CoordinatorConfig } from './config';
import { CoordinatorModule } from './coordinator.module';

/** How the coordinator service is made: used by main.ts and by tests that run it in-process. */
export const coordinatorService: StartServiceOptions<CoordinatorConfig> = {
  name: 'coordinator',
  loadConfig: (env) => loadConfig(CoordinatorConfig, env),
  module: (config) => CoordinatorModule.forRoot(config),
  restApi: {
    title: 'Coordinator API',
    description: 'Administration: users, consumer keys, entity types, data connectors, access policies, remote catalogs, harvest sources and publications (BitBroker-compatible).',
  },
};
