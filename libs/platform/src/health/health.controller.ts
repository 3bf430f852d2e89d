import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { ReadinessRegistry } from './readiness';

/** Liveness and readiness, outside the API base path (probes of Kubernetes and compose). */
@ApiExcludeController()
@Controller()
export class HealthController {
  constructor(private readonly readiness: ReadinessRegistry) {}

  /** The process is up and its event loop turns. */
  @Get('health')
  @HttpCode(200)
  health() {
    return { status: 'ok', uptimeSeconds: Math.round(process.uptime()) };
  }

  /** Every dependency answers: 200, else 503 with the reason per dependency. */
  @Get('ready')
  async ready(@Res({ passthrough: true }) response: { status(code: number): unknown }) {
    const report = await this.readiness.report();
    response.status(report.status === 'ready' ? 200 : 503);
    return report;
  }
}
