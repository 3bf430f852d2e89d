import { loadConfig, startService } from '@odb/platform';
import { ContributorIngestConfig } from './config';
import { ContributorIngestModule } from './contributor-ingest.module';

void startService({
  name: 'contributor-ingest',
  loadConfig: () => loadConfig(ContributorIngestConfig),
  module: (config) => ContributorIngestModule.forRoot(config),
  restApi: {
    title: 'Contributor API',
    description: 'Data connectors push entity instance records in sessions (stream, accrue, replace); BitBroker-compatible.',
  },
});
