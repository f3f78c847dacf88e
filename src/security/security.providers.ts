import type { Provider, Type } from '@nestjs/common';
import { RELAY_OPTIONS, type RelayOptions } from '../relay/relay-options.js';
import { AdminGuard } from './admin.guard.js';
import { ConnectionContextRegistry } from './connection-context.js';
import { JoinPolicy } from './join-policy.js';
import { JoinTokenVerifier } from './join-token.verifier.js';
import { ResultAuthGuard } from './results/result-auth.guard.js';
import { ResultClaims } from './results/result-claims.js';
import { ResultController } from './results/result.controller.js';
import { VerifiedResultService } from './results/verified-result.service.js';
import {
  DEFAULT_SECURITY_OPTIONS,
  SECURITY_OPTIONS,
} from './security-options.js';
import { UpgradeGate } from './upgrade-gate.js';

/**
 * The security providers, registered by `RelayModule` next to its own. They
 * read their settings from `RelayOptions.security`.
 */
export const SECURITY_PROVIDERS: Provider[] = [
  {
    provide: SECURITY_OPTIONS,
    inject: [RELAY_OPTIONS],
    useFactory: (options: RelayOptions) => ({
      ...DEFAULT_SECURITY_OPTIONS,
      ...options.security,
    }),
  },
  JoinTokenVerifier,
  ConnectionContextRegistry,
  JoinPolicy,
  UpgradeGate,
  ResultClaims,
  VerifiedResultService,
  ResultAuthGuard,
  AdminGuard,
];

/** Providers other modules may inject: the settings and the admin guard. */
export const SECURITY_EXPORTS = [SECURITY_OPTIONS, AdminGuard];

export const SECURITY_CONTROLLERS: Type[] = [ResultController];
