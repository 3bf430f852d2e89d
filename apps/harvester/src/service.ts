import { StartServiceOptions, loadConfig } from '@odb/platform';
import { HarvesterConfig } from './config';
import { HarvesterModule } from './harvester.module';

/** How the harvester service is made: used by main.ts and by tests that run it in-process. */
export const harvesterService: StartServiceOptions<HarvesterConfig> = {
  name: 'harvester',
  loadConfig: (env) => loadConfig(HarvesterConfig, env),
  module: (config) => HarvesterModule.forRoot(config),
};
