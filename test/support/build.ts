import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const BUILD_DIR_VARIABLE = 'RELAY_TEST_BUILD_DIR';

/**
 * Compiles the server once per test run into its own folder under
 * test-output/ and returns that folder, for tests that must run the server
 * as a separate process (signals, SIGKILL, restarts). Test files run in one
 * process (`--runInBand`), so the folder is shared through the environment;
 * `global-teardown.ts` removes it after the run.
 */
export function buildServer(): string {
  const existing = process.env[BUILD_DIR_VARIABLE];
  if (existing && existsSync(join(existing, 'main.js'))) {
    return existing;
  }

  const outDir = join(ROOT, 'test-output', `build-${process.pid}`);
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      join(ROOT, 'tsconfig.build.json'),
      '--outDir',
      outDir,
      '--sourceMap',
      'false',
      '--declaration',
      'false',
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
  process.env[BUILD_DIR_VARIABLE] = outDir;
  return outDir;
}
