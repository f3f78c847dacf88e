import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResults } from '../results-model.js';
import { renderReport } from './render.js';

/**
 * Renders docs/benchmarks.md again from a results file:
 * `node bench/build/report/render-cli.js [bench/results/FILE.json]`, the
 * newest file when none is given.
 */
const repositoryDir = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
);
const resultsDir = join(repositoryDir, 'bench', 'results');

const given = process.argv[2];
const file =
  given ??
  readdirSync(resultsDir)
    .filter((name) => name.endsWith('.json') && !name.endsWith('.tmp.json'))
    .sort()
    .map((name) => join('bench', 'results', name))
    .at(-1);
if (!file) {
  console.error(`No results in ${resultsDir}: run npm run bench first`);
  process.exit(1);
}
const results = JSON.parse(
  readFileSync(resolve(repositoryDir, file), 'utf8'),
) as BenchResults;
const written = renderReport(results, {
  documentPath: join(repositoryDir, 'docs', 'benchmarks.md'),
  chartPath: join(resultsDir, 'latency-vs-rate.svg'),
  resultsFile: file,
});
console.log(`Rendered ${written.join(' and ')} from ${file}`);
