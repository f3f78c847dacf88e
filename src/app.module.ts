import {
  Logger,
  Module,
  type DynamicModule,
  type ModuleMetadata,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import {
  validateEnvironment,
  type EnvironmentVariables,
} from './config/environment.js';
import { DemoModule } from './demo/demo.module.js';
import { OpsModule } from './ops/ops.module.js';
import {
  demoPagesEnabled,
  opsOptionsFromEnvironment,
} from './ops/ops-settings.js';
import { relayOptionsFromEnvironment } from './relay/relay-options.factory.js';
import { RelayModule } from './relay/relay.module.js';

/** Key under which the validated environment is kept in `ConfigService`. */
export const ENVIRONMENT = 'environment';

/**
 * The relay server application.
 * @param environment the variables to read; `process.env` and an optional
 *   `.env` file when absent. Tests pass their own to stay isolated.
 * @param imports further modules, such as ones that register flow events.
 */
@Module({})
export class AppModule implements OnApplicationShutdown {
  private readonly logger = new Logger(AppModule.name);

  onApplicationShutdown(signal?: string): void {
    this.logger.log(`Payment relay stopped${signal ? ` (${signal})` : ''}`);
  }

  static forRoot(
    environment?: Record<string, string | undefined>,
    imports: NonNullable<ModuleMetadata['imports']> = [],
  ): DynamicModule {
    const configModule = ConfigModule.forRoot({
      isGlobal: true,
      ignoreEnvFile: environment !== undefined,
      validate: (config) => ({
        [ENVIRONMENT]: validateEnvironment(
          environment ?? (config as Record<string, string | undefined>),
        ),
      }),
    });
    // Nest awaits this promise only later, while scanning modules, so an
    // invalid setting would first surface as an unhandled rejection and
    // crash the process with a raw stack trace. Marking it handled here
    // lets the same rejection reach the caller of NestFactory.create.
    configModule.catch(() => undefined);
    return {
      module: AppModule,
      imports: [
        ...imports,
        configModule,
        RelayModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService) =>
            relayOptionsFromEnvironment(
              config.getOrThrow<EnvironmentVariables>(ENVIRONMENT),
            ),
        }),
        OpsModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService) =>
            opsOptionsFromEnvironment(
              config.getOrThrow<EnvironmentVariables>(ENVIRONMENT),
            ),
        }),
        DemoModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService) => {
            const env = config.getOrThrow<EnvironmentVariables>(ENVIRONMENT);
            return {
              enabled: demoPagesEnabled(env),
              publicUrl: env.DEMO_PUBLIC_URL,
              wsPath: env.WS_PATH,
            };
          },
        }),
      ],
    };
  }
}
