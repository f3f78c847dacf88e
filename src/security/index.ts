export { AdminGuard } from './admin.guard.js';
export { signResult } from './results/result-auth.guard.js';
export {
  SECURITY_OPTIONS,
  DEFAULT_SECURITY_OPTIONS,
  type SecurityOptions,
} from './security-options.js';
