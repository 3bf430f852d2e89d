import { StartServiceOptions, loadConfig } from '@odb/platform';
import { ContributorIngestConfig } from './config';
import { ContributorIngestModule } from './contributor-ingest.module';

/** How the contributor-ingest service is made: used by main.ts and by tests that run it in-process. */
export const contributorIngestService: StartServiceOptions<ContributorIngestConfig> = {
  name: 'contributor-ingest',
  loadConfig: (env) => loadConfig(ContributorIngestConfig, env),
  module: (config) => ContributorIngestModule.forRoot(config),
  restApi: {
    title: 'Contributor API',
    description: 'Data connectors push entity instance records in sessions (stream, accrue, replace); BitBroker-compatible.',
  },
};
