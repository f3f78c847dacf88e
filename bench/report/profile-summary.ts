import { readFileSync } from 'node:fs';

/**
 * Summarizes a V8 CPU profile (`node --cpu-prof`): self time by function
 * and by package, and inclusive time of the functions whose name matches a
 * filter. Usage:
 * `node bench/build/report/profile-summary.js FILE.cpuprofile [NAME_FILTER]`.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

const [file, filter] = process.argv.slice(2);
if (!file) {
  console.error('Usage: profile-summary.js FILE.cpuprofile [NAME_FILTER]');
  process.exit(1);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const totalSamples = profile.samples.length;
const microsPerSample = (profile.endTime - profile.startTime) / totalSamples;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));

function packageOf(url: string): string {
  if (url === '') {
    return '(native or idle)';
  }
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) {
    return 'node core';
  }
  return 'relay';
}

const selfByFunction = new Map<string, number>();
const selfByPackage = new Map<string, number>();
for (const node of profile.nodes) {
  const hits = node.hitCount ?? 0;
  const { functionName, url, lineNumber } = node.callFrame;
  const name = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|relay-server|dist)\//, '')}:${lineNumber + 1}`;
  selfByFunction.set(name, (selfByFunction.get(name) ?? 0) + hits);
  const pkg = packageOf(url);
  selfByPackage.set(pkg, (selfByPackage.get(pkg) ?? 0) + hits);
}

const idle = profile.nodes
  .filter((node) =>
    ['(idle)', '(program)', '(garbage collector)'].includes(
      node.callFrame.functionName,
    ),
  )
  .map((node) => [node.callFrame.functionName, node.hitCount ?? 0] as const);
const share = (hits: number) => `${((hits / totalSamples) * 100).toFixed(1)}%`;

console.log(
  `${totalSamples} samples, ${microsPerSample.toFixed(0)} µs each, ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s`,
);
for (const [name, hits] of idle) {
  console.log(`  ${name}: ${share(hits)}`);
}
console.log('\nSelf time by package:');
for (const [pkg, hits] of [...selfByPackage]
  .sort((a, b) => b[1] - a[1])
  .slice(0, 15)) {
  console.log(`  ${share(hits).padStart(6)}  ${pkg}`);
}
console.log('\nSelf time by function (top 30):');
for (const [name, hits] of [...selfByFunction]
  .sort((a, b) => b[1] - a[1])
  .slice(0, 30)) {
  console.log(`  ${share(hits).padStart(6)}  ${name}`);
}

if (filter) {
  const inclusive = new Map<string, number>();
  const subtreeHits = (node: ProfileNode, seen: Set<number>): number => {
    if (seen.has(node.id)) {
      return 0;
    }
    seen.add(node.id);
    let hits = node.hitCount ?? 0;
    for (const child of node.children ?? []) {
      hits += subtreeHits(byId.get(child)!, seen);
    }
    return hits;
  };
  // Inclusive time counts each matching frame once, not again inside recursion.
  const visit = (node: ProfileNode, insideMatch: Set<string>) => {
    const name = node.callFrame.functionName;
    const matches = name.includes(filter) && !insideMatch.has(name);
    if (matches) {
      inclusive.set(
        name,
        (inclusive.get(name) ?? 0) + subtreeHits(node, new Set()),
      );
    }
    const next = matches ? new Set([...insideMatch, name]) : insideMatch;
    for (const child of node.children ?? []) {
      visit(byId.get(child)!, next);
    }
  };
  visit(profile.nodes[0], new Set());
  console.log(`\nInclusive time of functions matching "${filter}":`);
  for (const [name, hits] of [...inclusive]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 30)) {
    console.log(`  ${share(hits).padStart(6)}  ${name}`);
  }
}
