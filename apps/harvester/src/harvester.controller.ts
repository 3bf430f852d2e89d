import { Controller, Get } from '@nestjs/common';
import { RunStore } from './runs/run-store';

/** Operations view on the harvester's own port (internal, like /metrics). */
@Controller('runs')
export class HarvesterController {
  constructor(private readonly store: RunStore) {}

  /** Runs being carried out now, by any replica, with their progress and worker. */
  @Get('active')
  active() {
    return this.store.activeRuns();
  }
}
