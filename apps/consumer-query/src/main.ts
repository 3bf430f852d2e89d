import { startService } from '@odb/platform';
import { consumerQueryService } from './service';

void startService(consumerQueryService);
