import {
  Inject,
  Injectable,
  Logger,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { bearerToken, secretsEqual } from './constant-time.js';
import { SECURITY_OPTIONS, type SecurityOptions } from './security-options.js';
import { pathOf, type HttpRequest } from './http-request.js';

/**
 * Guards admin HTTP routes with `Authorization: Bearer <ADMIN_TOKEN>`.
 * Without `ADMIN_TOKEN` the routes are open, which only development and test
 * mode allow: production refuses to start without it. Apply it with
 * `@UseGuards(AdminGuard)` on any admin controller.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly logger = new Logger(AdminGuard.name);

  constructor(
    @Inject(SECURITY_OPTIONS) private readonly options: SecurityOptions,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const expected = this.options.adminToken;
    if (expected === undefined) {
      return true;
    }

    const request = context.switchToHttp().getRequest<HttpRequest>();
    const presented = bearerToken(request.headers.authorization);
    if (presented !== undefined && secretsEqual(presented, expected)) {
      return true;
    }
    this.logger.log(
      `Admin request ${request.method} ${pathOf(request)} from ${request.ip ?? 'unknown'} rejected: ${presented === undefined ? 'no bearer token' : 'wrong token'}`,
    );
    throw new UnauthorizedException(
      'Admin routes need Authorization: Bearer <ADMIN_TOKEN>',
    );
  }
}
