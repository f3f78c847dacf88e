import {
  Inject,
  Injectable,
  NotFoundException,
  type CanActivate,
} from '@nestjs/common';
import { DEMO_OPTIONS, type DemoOptions } from './demo-options.js';

/** Answers 404 on every demo route while `DEMO_PAGES` is off. */
@Injectable()
export class DemoEnabledGuard implements CanActivate {
  constructor(@Inject(DEMO_OPTIONS) private readonly options: DemoOptions) {}

  canActivate(): boolean {
    if (!this.options.enabled) {
      throw new NotFoundException();
    }
    return true;
  }
}
