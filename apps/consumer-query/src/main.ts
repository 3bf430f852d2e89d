import { loadConfig, startService } from '@odb/platform';
import { ConsumerQueryConfig } from './config';
import { ConsumerQueryModule } from './consumer-query.module';

void startService({
  name: 'consumer-query',
  loadConfig: () => loadConfig(ConsumerQueryConfig),
  module: (config) => ConsumerQueryModule.forRoot(config),
  restApi: {
    title: 'Consumer API',
    description: 'Read and query the catalog of records under access policies; BitBroker-compatible, plus CSV and DCAT-AP.',
  },
});
