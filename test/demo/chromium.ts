import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium; override with `CHROMIUM_PATH`. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags that keep the browser headless, unsandboxed (root in CI) and off the network. */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--remote-debugging-address=127.0.0.1',
  '--remote-debugging-port=0',
];

const STARTUP_TIMEOUT_MS = 15_000;

export interface LaunchedChromium {
  browser: Browser;
  /** Closes the browser, ends its process by pid and removes the profile. */
  close(): Promise<void>;
}

/** Returns why the browser tests cannot run here, or `undefined` when they can. */
export function chromiumUnavailableReason(): string | undefined {
  return existsSync(CHROMIUM_PATH)
    ? undefined
    : `${CHROMIUM_PATH} not found (install the chromium package)`;
}

/**
 * Starts Chromium with a fresh profile and connects Playwright to it over
 * the DevTools protocol. The test owns the process, so it can end it by pid.
 */
export async function launchChromium(): Promise<LaunchedChromium> {
  const profile = await mkdtemp(join(tmpdir(), 'relay-demo-chromium-'));
  const child = spawn(
    CHROMIUM_PATH,
    [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, 'about:blank'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  try {
    const endpoint = await devToolsEndpoint(child);
    const browser = await chromium.connectOverCDP(endpoint);
    return {
      browser,
      close: async () => {
        // Browser.close lets Chromium end its helper processes itself, while
        // closing Playwright's connection alone would leave it running.
        const session = await browser.newBrowserCDPSession();
        await session.send('Browser.close').catch(() => undefined);
        await browser.close().catch(() => undefined);
        await stopProcess(child);
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopProcess(child);
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
}

/** Waits for the "DevTools listening on ws://..." line Chromium prints at startup. */
function devToolsEndpoint(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `Chromium printed no DevTools endpoint within ${STARTUP_TIMEOUT_MS} ms; output: ${output.slice(-500)}`,
          ),
        ),
      STARTUP_TIMEOUT_MS,
    );
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      output += chunk;
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stderr?.removeAllListeners('data');
        child.stderr?.resume();
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(
          `Chromium exited with ${code} before it was ready; output: ${output.slice(-500)}`,
        ),
      );
    });
  });
}

const EXIT_TIMEOUT_MS = 5_000;

/**
 * Waits for Chromium to exit, ending it by pid when it does not: SIGTERM
 * after `EXIT_TIMEOUT_MS`, SIGKILL after twice that.
 */
async function stopProcess(child: ChildProcess): Promise<void> {
  const running = () => child.exitCode === null && child.signalCode === null;
  if (!running() || child.pid === undefined) {
    return;
  }
  const pid = child.pid;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => resolve()),
  );
  const terminate = setTimeout(() => {
    if (running()) {
      process.kill(pid, 'SIGTERM');
    }
  }, EXIT_TIMEOUT_MS);
  const kill = setTimeout(() => {
    if (running()) {
      process.kill(pid, 'SIGKILL');
    }
  }, 2 * EXIT_TIMEOUT_MS);
  await exited;
  clearTimeout(terminate);
  clearTimeout(kill);
}
