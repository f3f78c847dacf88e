import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Removes the server build that `buildServer` made for this run. Test files
 * run in Jest's own process (`--runInBand`), whose pid names the folder.
 */
export default function globalTeardown(): void {
  const root = resolve(import.meta.dirname, '../..');
  rmSync(join(root, 'test-output', `build-${process.pid}`), {
    recursive: true,
    force: true,
  });
}
