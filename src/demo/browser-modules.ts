import { Injectable, Logger } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Module paths the browser may load, relative to the source root: the
 * protocol catalogue, the device client library and the pages' own scripts.
 */
const BROWSER_MODULE_PATTERN =
  /^(?:protocol|client|demo\/browser)\/[a-z0-9-]+(?:\/[a-z0-9-]+)*\.js$/;

/**
 * Root the modules are read from: `dist/` after `nest build`, `src/` when
 * the server runs from TypeScript sources (ts-jest, ts-node).
 */
const SOURCE_ROOT = fileURLToPath(new URL('..', import.meta.url));

type Transpile = (source: string, fileName: string) => string;

/**
 * ES modules for the demo pages. A compiled `.js` file is served as is.
 * When only the `.ts` source exists, as under ts-jest, the file is
 * transpiled with the `typescript` package on first request and cached, so
 * the pages work without a build step. Production images hold the compiled
 * files and need no TypeScript.
 */
@Injectable()
export class BrowserModules {
  private readonly logger = new Logger(BrowserModules.name);
  private readonly cache = new Map<string, string>();
  private transpile?: Promise<Transpile>;

  private readonly root = SOURCE_ROOT;

  /** Returns the module's JavaScript, or `undefined` for a path outside the allowed set or a missing file. */
  async load(path: string): Promise<string | undefined> {
    if (!BROWSER_MODULE_PATTERN.test(path)) {
      return undefined;
    }
    const cached = this.cache.get(path);
    if (cached !== undefined) {
      return cached;
    }

    const code =
      (await readOptional(join(this.root, path))) ??
      (await this.transpileSource(path));
    if (code !== undefined) {
      this.cache.set(path, code);
    }
    return code;
  }

  private async transpileSource(path: string): Promise<string | undefined> {
    const sourcePath = join(this.root, path.replace(/\.js$/, '.ts'));
    const source = await readOptional(sourcePath);
    if (source === undefined) {
      return undefined;
    }
    this.transpile ??= loadTranspiler();
    const transpile = await this.transpile;
    this.logger.debug(`Transpiled ${path} for the browser`);
    return transpile(source, sourcePath);
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined;
    }
    throw error;
  }
}

async function loadTranspiler(): Promise<Transpile> {
  const { default: ts } = await import('typescript');
  return (source, fileName) =>
    ts.transpileModule(source, {
      fileName,
      compilerOptions: {
        module: ts.ModuleKind.ES2022,
        target: ts.ScriptTarget.ES2022,
        sourceMap: false,
        removeComments: false,
      },
    }).outputText;
}
