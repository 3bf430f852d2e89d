import { StartServiceOptions, loadConfig } from '@odb/platform';
import { ConsumerQueryConfig } from './config';
import { ConsumerQueryModule } from './consumer-query.module';

/** How the consumer-query service is made: used by main.ts and by tests that run it in-process. */
export const consumerQueryService: StartServiceOptions<ConsumerQueryConfig> = {
  name: 'consumer-query',
  loadConfig: (env) => loadConfig(ConsumerQueryConfig, env),
  module: (config) => ConsumerQueryModule.forRoot(config),
  // The hot read path: Fastify answers about three times the requests of Express on the same CPU (ADR 0007).
  http: 'fastify',
  restApi: {
    title: 'Consumer API',
    description: 'Read and query the catalog of records under access policies; BitBroker-compatible, plus CSV and DCAT-AP.',
  },
};
