import { startService } from '@odb/platform';
import { harvesterService } from './service';

void startService(harvesterService);
