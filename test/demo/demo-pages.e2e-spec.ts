import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/test-server.js';
import {
  chromiumUnavailableReason,
  launchChromium,
  type LaunchedChromium,
} from './chromium.js';

const OUTPUT_DIR = join(process.cwd(), 'test-output');
/** A phone-sized screen: the pages must work there. */
const PHONE_VIEWPORT = { width: 390, height: 844 };
const STEP_TIMEOUT_MS = 10_000;

/** Every step the creator's timeline must show, in order, for a failed attempt and then a paid one. */
const EXPECTED_TIMELINE = [
  'PEER_JOINED',
  'ENTERED_SUMMARY',
  'CLICKED_PROCEED',
  'PAYMENT_METHOD_CHANGED',
  'PAYMENT_METHOD_CHANGED',
  'DATA_FILLED',
  'CLICKED_PAY',
  'PAYMENT_ERROR',
  'DATA_FILLED',
  'CLICKED_PAY',
  'PAYMENT_SUCCESS',
];

/** Collects uncaught errors and console errors of a page, so a failure can name them. */
function collectErrors(page: Page, errors: string[]): void {
  page.on('pageerror', (error) =>
    errors.push(`${page.url()}: ${error.message}`),
  );
  page.on('console', (message) => {
    if (message.type() === 'error') {
      errors.push(`${page.url()}: ${message.text()}`);
    }
  });
}

async function timelineEvents(page: Page): Promise<string[]> {
  return page
    .locator('#timeline li')
    .evaluateAll((items) =>
      items.map((item) => (item as HTMLElement).dataset.event ?? ''),
    );
}

async function waitForStatus(page: Page, status: string): Promise<void> {
  await page.waitForSelector(`#status[data-status="${status}"]`, {
    timeout: STEP_TIMEOUT_MS,
  });
}

async function waitForStep(
  page: Page,
  event: string,
  count = 1,
): Promise<void> {
  await page.waitForFunction(
    ([name, expected]) =>
      document.querySelectorAll(`#timeline li[data-event="${name}"]`).length >=
      Number(expected),
    [event, String(count)],
    { timeout: STEP_TIMEOUT_MS },
  );
}

const unavailable = chromiumUnavailableReason();

if (unavailable !== undefined && !process.env.CI) {
  process.stdout.write(`SKIPPED demo pages in Chromium: ${unavailable}\n`);
}

const describeBrowser =
  unavailable === undefined || process.env.CI ? describe : describe.skip;

describeBrowser('demo pages in Chromium', () => {
  let server: TestServer;
  let chromium: LaunchedChromium;
  let context: BrowserContext;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (unavailable !== undefined) {
      throw new Error(`Chromium is required in CI: ${unavailable}`);
    }
    await mkdir(OUTPUT_DIR, { recursive: true });
    server = await startTestServer({
      DEMO_PAGES: 'true',
      ADMIN_LIVE_INTERVAL_MS: '50',
    });
    chromium = await launchChromium();
    context = await chromium.browser.newContext({ viewport: PHONE_VIEWPORT });
    context.on('page', (page) => collectErrors(page, pageErrors));
  }, 30_000);

  afterEach(() => {
    // Names the browser-side cause when a wait above timed out.
    expect(pageErrors).toEqual([]);
  });

  afterAll(async () => {
    await context?.close();
    await chromium?.close();
    await server?.close();
  });

  it('shows the payer flow on the creator timeline', async () => {
    const creator = await context.newPage();
    await creator.goto(`${server.httpUrl}/demo`);
    await creator.fill('#amount', '25,90');
    await creator.click('#create');
    await waitForStatus(creator, 'OPEN');
    const link = await creator.getAttribute('#payment-link', 'href');
    expect(link).toMatch(/\/p\/demo-[0-9a-f]{8}\?amount=2590&description=/);
    const qr = await creator
      .locator('#qr')
      .evaluate((image) => (image as HTMLImageElement).naturalWidth);
    expect(qr).toBeGreaterThan(0);

    const payer = await context.newPage();
    await payer.goto(link ?? '');
    expect(payer.url()).toContain('/demo/pay/demo-');
    await payer.waitForSelector('#proceed:not([disabled])', {
      timeout: STEP_TIMEOUT_MS,
    });
    await expect(payer.textContent('#order-amount')).resolves.toContain(
      '25,90',
    );
    await waitForStep(creator, 'ENTERED_SUMMARY');
    await waitForStatus(creator, 'IN_PROGRESS');

    await payer.click('#proceed');
    await waitForStep(creator, 'PAYMENT_METHOD_CHANGED');
    await payer.check('input[name=method][value=CREDIT_CARD]');
    await waitForStep(creator, 'PAYMENT_METHOD_CHANGED', 2);
    await payer.click('#method-next');

    await payer.fill('#payer-name', 'Maria Silva');
    await payer.fill('#payer-email', 'maria@example.com');
    await payer.check('#fail-switch');
    await payer.screenshot({
      path: join(OUTPUT_DIR, 'demo-payer-checkout.png'),
      fullPage: true,
    });
    await payer.click('#pay');
    await payer.waitForSelector('#result[data-result=FAILED]', {
      timeout: STEP_TIMEOUT_MS,
    });
    await waitForStatus(creator, 'FAILED');

    await payer.click('#retry');
    await payer.click('#method-next');
    await payer.click('#pay');
    await payer.waitForSelector('#result[data-result=PAID]', {
      timeout: STEP_TIMEOUT_MS,
    });
    // The payer's success is unverified: nothing confirmed it as paid.
    await waitForStatus(creator, 'CLAIMED');
    await waitForStep(creator, 'PAYMENT_SUCCESS');
    await payer.waitForSelector('#delivered:not([hidden])', {
      timeout: STEP_TIMEOUT_MS,
    });

    expect(await timelineEvents(creator)).toEqual(EXPECTED_TIMELINE);
    await expect(creator.textContent('#status')).resolves.toBe(
      'Quem paga informa sucesso, aguardando confirmação',
    );
    await expect(
      creator.textContent('#timeline li[data-event=PAYMENT_ERROR]'),
    ).resolves.toContain('CARD_DECLINED');

    // A background tab paints no frames, so each page comes to the front for its screenshot.
    await creator.bringToFront();
    await creator.screenshot({
      path: join(OUTPUT_DIR, 'demo-creator.png'),
      fullPage: true,
    });
    await payer.bringToFront();
    await payer.screenshot({
      path: join(OUTPUT_DIR, 'demo-payer.png'),
      fullPage: true,
    });

    await creator.bringToFront();
    await creator.click('#language');
    await expect(creator.textContent('#status')).resolves.toBe(
      'Payer reports success, awaiting confirmation',
    );
    await expect(
      creator.textContent('#timeline li[data-event=CLICKED_PAY]'),
    ).resolves.toContain('Clicked pay');
    await creator.screenshot({
      path: join(OUTPUT_DIR, 'demo-creator-en.png'),
      fullPage: true,
    });

    const roomId = new URL(link ?? '').pathname.split('/').pop() ?? '';
    const admin = await context.newPage();
    await admin.goto(`${server.httpUrl}/demo/admin?lang=pt-BR`);
    await admin.waitForSelector('#stream-state[data-state=live]', {
      timeout: STEP_TIMEOUT_MS,
    });
    const row = admin.locator(`tr[data-room-id="${roomId}"]`);
    await row.locator('.status[data-status=PAID]').waitFor({
      timeout: STEP_TIMEOUT_MS,
    });
    await expect(row.textContent()).resolves.toContain('PAYER payer-');
    await expect(admin.textContent('#total-paymentsCompleted')).resolves.toBe(
      '1',
    );
    await admin.screenshot({
      path: join(OUTPUT_DIR, 'demo-admin.png'),
      fullPage: true,
    });
  }, 60_000);
});
