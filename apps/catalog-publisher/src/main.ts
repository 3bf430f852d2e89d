import { startService } from '@odb/platform';
import { catalogPublisherService } from './service';

void startService(catalogPublisherService);
