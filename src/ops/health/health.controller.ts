import { Controller, Get, Header, HttpStatus, Res } from '@nestjs/common';
import { ReadinessService, type ReadinessReport } from './readiness.service.js';

interface StatusSetter {
  status(code: number): unknown;
}

/**
 * Liveness and readiness probes. Both stay open when an admin token is
 * configured, because orchestrators call them without credentials.
 */
@Controller('health')
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  /** 200 while the process can answer HTTP at all, shutdown included. */
  @Get('live')
  @Header('Cache-Control', 'no-store')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** 200 when this instance should receive new clients, 503 otherwise. */
  @Get('ready')
  @Header('Cache-Control', 'no-store')
  async ready(
    @Res({ passthrough: true }) response: StatusSetter,
  ): Promise<ReadinessReport> {
    const report = await this.readiness.check();
    response.status(
      report.ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE,
    );
    return report;
  }
}
