import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  EnvironmentVariables,
  validateEnvironment,
} from '../../src/config/environment.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const ROOT = process.cwd();
const SETTINGS = new Set(Object.keys(new EnvironmentVariables()));
const DEFAULT_PORT = new EnvironmentVariables().PORT;

interface Instruction {
  keyword: string;
  argument: string;
}

/** Splits a Dockerfile into instructions, joining `\` continuations and dropping comments. */
function parseDockerfile(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), argument: rest.join(' ') };
    });
}

/** Instructions of each stage, keyed by stage name (or index). */
function stages(instructions: Instruction[]): Map<string, Instruction[]> {
  const result = new Map<string, Instruction[]>();
  let current: Instruction[] | undefined;
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const name =
        /\bAS\s+(\S+)/i.exec(instruction.argument)?.[1] ?? String(result.size);
      current = [];
      result.set(name, current);
    }
    current?.push(instruction);
  }
  return result;
}

/** `KEY=value` pairs of ENV instructions. */
function envOf(instructions: Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { keyword, argument } of instructions) {
    if (keyword !== 'ENV') continue;
    for (const pair of argument.split(/\s+/)) {
      const [key, value] = pair.split('=');
      env[key] = value;
    }
  }
  return env;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

interface Probe {
  httpGet: { path: string; port: string | number };
}

interface Container {
  ports: { name: string; containerPort: number }[];
  env: EnvVar[];
  livenessProbe: Probe;
  readinessProbe: Probe;
  startupProbe?: Probe;
}

interface Manifest {
  kind: string;
  spec: Record<string, unknown> & {
    template?: {
      metadata: { annotations?: Record<string, string> };
      spec: { terminationGracePeriodSeconds: number; containers: Container[] };
    };
    ports?: { targetPort: string | number }[];
  };
}

/** Values that pass validation for settings the manifest takes from secrets or the pod. */
const PLACEHOLDERS: Record<string, string> = {
  REDIS_URL: 'redis://redis:6379',
  AUTH_JWT_SECRET: 'x'.repeat(32),
  ADMIN_TOKEN: 'x'.repeat(16),
  INSTANCE_ID: 'payment-relay-0',
};

const dockerfile = parseDockerfile(
  readFileSync(join(ROOT, 'Dockerfile'), 'utf8'),
);
const manifests = parseAllDocuments(
  readFileSync(join(ROOT, 'deploy/k8s/payment-relay.yaml'), 'utf8'),
).map((document) => document.toJS() as Manifest);
const deployment = manifests.find((manifest) => manifest.kind === 'Deployment');
const container = deployment?.spec.template?.spec.containers[0];

describe('Dockerfile', () => {
  const byStage = stages(dockerfile);
  const runtime = [...byStage.values()].at(-1) ?? [];

  it('builds in one stage and runs from another', () => {
    expect(byStage.size).toBeGreaterThanOrEqual(2);
    expect(
      runtime.some((i) => i.keyword === 'RUN' && i.argument.includes('npm')),
    ).toBe(false);
    expect(
      runtime.filter((i) => i.keyword === 'COPY').map((i) => i.argument),
    ).toEqual(
      expect.arrayContaining([expect.stringContaining('/app/dist ./dist')]),
    );
  });

  it('installs only production dependencies into the runtime', () => {
    const source = runtime
      .filter(
        (i) => i.keyword === 'COPY' && i.argument.includes('node_modules'),
      )
      .map((i) => /--from=(\S+)/.exec(i.argument)?.[1]);
    expect(source).toHaveLength(1);
    const stage = byStage.get(source[0] ?? '') ?? [];
    expect(
      stage.some(
        (i) => i.keyword === 'RUN' && /npm ci .*--omit=dev/.test(i.argument),
      ),
    ).toBe(true);
  });

  it('runs as a non-root user', () => {
    const user = runtime.filter((i) => i.keyword === 'USER').at(-1)?.argument;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
  });

  it('exposes the port the server listens on', () => {
    const env = envOf(runtime);
    expect(env.NODE_ENV).toBe('production');
    expect(Number(env.PORT)).toBe(DEFAULT_PORT);
    expect(runtime.find((i) => i.keyword === 'EXPOSE')?.argument).toBe(
      String(DEFAULT_PORT),
    );
    expect(Object.keys(env).filter((name) => !SETTINGS.has(name))).toEqual([]);
  });

  it('starts the compiled server and checks readiness', () => {
    expect(runtime.find((i) => i.keyword === 'CMD')?.argument).toBe(
      '["node", "dist/main.js"]',
    );
    expect(
      runtime.find((i) => i.keyword === 'HEALTHCHECK')?.argument,
    ).toContain('/health/ready');
  });

  it('keeps node_modules and dist out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split(
      '\n',
    );
    expect(ignored).toEqual(
      expect.arrayContaining(['node_modules', 'dist', '.env']),
    );
  });
});

describe('Kubernetes manifest', () => {
  it('has a Deployment with one container', () => {
    expect(container).toBeDefined();
  });

  it('uses only settings the server reads, with valid values', () => {
    const env = container?.env ?? [];
    expect(
      env.map((entry) => entry.name).filter((name) => !SETTINGS.has(name)),
    ).toEqual([]);
    const values = Object.fromEntries(
      env.map((entry) => [entry.name, entry.value ?? PLACEHOLDERS[entry.name]]),
    );
    expect(() => validateEnvironment(values)).not.toThrow();
  });

  it('gives shutdown more time than SHUTDOWN_TIMEOUT_MS', () => {
    const env = Object.fromEntries(
      (container?.env ?? []).map((e) => [e.name, e.value]),
    );
    const timeoutMs = Number(
      env.SHUTDOWN_TIMEOUT_MS ?? new EnvironmentVariables().SHUTDOWN_TIMEOUT_MS,
    );
    const graceSeconds =
      deployment?.spec.template?.spec.terminationGracePeriodSeconds ?? 0;
    expect(graceSeconds * 1000).toBeGreaterThan(timeoutMs);
  });

  it('points port and probes at the server port', () => {
    const env = Object.fromEntries(
      (container?.env ?? []).map((e) => [e.name, e.value]),
    );
    const port = container?.ports.find((entry) => entry.name === 'http');
    expect(port?.containerPort).toBe(Number(env.PORT ?? DEFAULT_PORT));
    for (const probe of [
      container?.livenessProbe,
      container?.readinessProbe,
      container?.startupProbe,
    ]) {
      expect(probe?.httpGet.port).toBe('http');
    }
    const service = manifests.find((manifest) => manifest.kind === 'Service');
    expect(service?.spec.ports?.[0]?.targetPort).toBe('http');
    const annotations = deployment?.spec.template?.metadata.annotations ?? {};
    expect(annotations['prometheus.io/port']).toBe(String(port?.containerPort));
  });

  describe('paths on a running server', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer();
    });
    afterAll(() => server.close());

    it('answers every probe and scrape path with 200', async () => {
      const annotations = deployment?.spec.template?.metadata.annotations ?? {};
      const paths = [
        container?.livenessProbe.httpGet.path,
        container?.readinessProbe.httpGet.path,
        container?.startupProbe?.httpGet.path,
        annotations['prometheus.io/path'],
        /'(\/health\/[a-z]+)'/.exec(
          dockerfile.find((i) => i.keyword === 'HEALTHCHECK')?.argument ?? '',
        )?.[1],
      ];
      for (const path of paths) {
        expect(path).toMatch(/^\//);
        const response = await fetch(`${server.httpUrl}${path}`);
        await response.arrayBuffer();
        expect({ path, status: response.status }).toEqual({
          path,
          status: 200,
        });
      }
    });
  });
});
