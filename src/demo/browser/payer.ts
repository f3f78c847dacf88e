import { ID_PATTERN, RelayClient, type RelayRoom } from '../../client/index.js';
import { text } from './i18n.js';
import {
  byId,
  formatCents,
  relayUrl,
  setUpLanguage,
  tabClientId,
} from './page.js';

type Step = 'summary' | 'method' | 'data' | 'result';

const STEPS: Step[] = ['summary', 'method', 'data', 'result'];
const roomId = document.body.dataset.roomId ?? '';
const query = new URLSearchParams(location.search);
const cents = /^\d{1,9}$/.test(query.get('amount') ?? '')
  ? Number(query.get('amount'))
  : 0;
let result: 'PAID' | 'FAILED' | undefined;
/** `seq` of the latest result event, which `DELIVERED` confirms. */
let resultSeq = Infinity;

const { language } = setUpLanguage(() => renderTexts());
renderTexts();

if (!ID_PATTERN.test(roomId)) {
  showError(text(language(), 'payer.badLink'));
} else {
  run().catch((error: unknown) =>
    showError(error instanceof Error ? error.message : String(error)),
  );
}

async function run(): Promise<void> {
  const client = new RelayClient({
    url: relayUrl(),
    clientId: tabClientId('payer'),
  });
  await client.connect();
  const room = await client.joinRoom(roomId, 'PAYER');
  await room.enteredSummary();
  wire(room);
  enable(true);
}

function wire(room: RelayRoom): void {
  // A creator's RECEIVED reaches the payer as DELIVERED with its highest seq.
  room.on('delivered', (delivered) => {
    if (delivered.seq >= resultSeq) {
      byId('delivered').hidden = false;
    }
  });

  byId('proceed').addEventListener('click', () =>
    act(async () => {
      await room.clickedProceed();
      await room.paymentMethodChanged(selectedMethod());
      show('method');
    }),
  );

  for (const radio of document.querySelectorAll<HTMLInputElement>(
    'input[name=method]',
  )) {
    radio.addEventListener('change', () =>
      act(() => room.paymentMethodChanged(selectedMethod())),
    );
  }

  byId('method-next').addEventListener('click', () => show('data'));

  byId<HTMLFormElement>('data-form').addEventListener('submit', (event) => {
    event.preventDefault();
    act(async () => {
      // Only the names of the filled fields leave the page.
      const filled = ['name', 'email'].filter(
        (field) => byId<HTMLInputElement>(`payer-${field}`).value.trim() !== '',
      );
      await room.dataFilled(filled);
      await room.clickedPay();
      byId('delivered').hidden = true;
      if (byId<HTMLInputElement>('fail-switch').checked) {
        const ack = await room.paymentFailed(
          'CARD_DECLINED',
          'Declined by the demo switch',
        );
        resultSeq = ack.seq;
        result = 'FAILED';
      } else {
        const ack = await room.paymentSucceeded({
          transactionId: `demo-${crypto.randomUUID().slice(0, 8)}`,
          amount: cents,
          currency: 'BRL',
        });
        resultSeq = ack.seq;
        result = 'PAID';
      }
      renderTexts();
      show('result');
    });
  });

  byId('retry').addEventListener('click', () => {
    result = undefined;
    byId<HTMLInputElement>('fail-switch').checked = false;
    show('method');
  });
}

function selectedMethod(): string {
  const checked = document.querySelector<HTMLInputElement>(
    'input[name=method]:checked',
  );
  return checked?.value ?? 'PIX';
}

/** Runs one user action with the buttons disabled, showing its error if it fails. */
function act(action: () => Promise<unknown>): void {
  enable(false);
  action()
    .catch((error: unknown) =>
      showError(error instanceof Error ? error.message : String(error)),
    )
    .finally(() => enable(true));
}

function enable(enabled: boolean): void {
  for (const button of document.querySelectorAll<HTMLButtonElement>(
    'main button',
  )) {
    button.disabled = !enabled;
  }
}

function show(step: Step): void {
  for (const name of STEPS) {
    byId(`step-${name}`).hidden = name !== step;
  }
}

function renderTexts(): void {
  const current = language();
  byId('order-amount').textContent = formatCents(cents, current);
  byId('order-description').textContent = (
    query.get('description') ?? ''
  ).slice(0, 60);
  const heading = byId('result');
  heading.dataset.result = result ?? '';
  heading.textContent = result
    ? text(current, result === 'PAID' ? 'payer.paid' : 'payer.failed')
    : '';
  byId('retry').hidden = result !== 'FAILED';
}

function showError(message: string): void {
  const error = byId('error');
  error.textContent = message;
  error.hidden = false;
}
