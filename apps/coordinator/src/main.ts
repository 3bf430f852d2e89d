import { startService } from '@odb/platform';
import { coordinatorService } from './service';

void startService(coordinatorService);
