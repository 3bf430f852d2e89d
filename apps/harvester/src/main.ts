import { loadConfig, startService } from '@odb/platform';
import { HarvesterConfig } from './config';
import { HarvesterModule } from './harvester.module';

void startService({
  name: 'harvester',
  loadConfig: () => loadConfig(HarvesterConfig),
  module: (config) => HarvesterModule.forRoot(config),
});
