import { startService } from '@odb/platform';
import { contributorIngestService } from './service';

void startService(contributorIngestService);
