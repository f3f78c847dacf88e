import { Module, type DynamicModule } from '@nestjs/common';
import { AdminController } from './admin/admin.controller.js';
import { AdminLiveService } from './admin/admin-live.service.js';
import { HealthController } from './health/health.controller.js';
import { ReadinessService } from './health/readiness.service.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { RelayMetrics } from './metrics/relay-metrics.service.js';
import {
  DEFAULT_OPS_OPTIONS,
  OPS_OPTIONS,
  type OpsOptions,
} from './ops-options.js';

export interface OpsModuleAsyncOptions {
  inject?: (string | symbol | (abstract new (...args: never[]) => unknown))[];
  useFactory: (
    ...args: never[]
  ) => Partial<OpsOptions> | Promise<Partial<OpsOptions>>;
}

/**
 * Operations endpoints on the relay's HTTP port: `/metrics` (Prometheus),
 * `/health/live`, `/health/ready` and the admin live stream under `/admin`.
 * Needs `RelayModule`, whose providers it reads.
 */
@Module({})
export class OpsModule {
  static forRoot(options: Partial<OpsOptions> = {}): DynamicModule {
    return OpsModule.forRootAsync({ useFactory: () => options });
  }

  static forRootAsync(options: OpsModuleAsyncOptions): DynamicModule {
    return {
      module: OpsModule,
      controllers: [MetricsController, HealthController, AdminController],
      providers: [
        {
          provide: OPS_OPTIONS,
          inject: options.inject ?? [],
          useFactory: async (...args: never[]) => ({
            ...DEFAULT_OPS_OPTIONS,
            ...(await options.useFactory(...args)),
          }),
        },
        RelayMetrics,
        ReadinessService,
        AdminLiveService,
      ],
      exports: [RelayMetrics, ReadinessService, AdminLiveService],
    };
  }
}
