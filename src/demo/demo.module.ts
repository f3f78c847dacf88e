import { Module, type DynamicModule } from '@nestjs/common';
import { BrowserModules } from './browser-modules.js';
import { DemoController, ShortLinkController } from './demo.controller.js';
import { DemoEnabledGuard } from './demo-enabled.guard.js';
import { DEMO_OPTIONS, type DemoOptions } from './demo-options.js';

export interface DemoModuleAsyncOptions {
  inject?: (string | symbol | (abstract new (...args: never[]) => unknown))[];
  useFactory: (...args: never[]) => DemoOptions | Promise<DemoOptions>;
}

/**
 * Browser demo of the relay: the creator page (`/demo`), the payer page
 * (`/demo/pay/:roomId`, reached by the short link `/p/:roomId`) and the admin
 * page (`/demo/admin`). Every route answers 404 unless `enabled`.
 */
@Module({})
export class DemoModule {
  static forRootAsync(options: DemoModuleAsyncOptions): DynamicModule {
    return {
      module: DemoModule,
      controllers: [DemoController, ShortLinkController],
      providers: [
        {
          provide: DEMO_OPTIONS,
          inject: options.inject ?? [],
          useFactory: options.useFactory,
        },
        BrowserModules,
        DemoEnabledGuard,
      ],
    };
  }
}
