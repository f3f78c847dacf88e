import { RelayClient, type RelayRoom } from '../../client/index.js';
import { text, type Language } from './i18n.js';
import {
  byId,
  publicOrigin,
  relayUrl,
  setUpLanguage,
  tabClientId,
} from './page.js';

/** Timeline entry: the event (or peer change) and when it arrived. */
interface Step {
  event: string;
  at: Date;
  detail?: string;
  /** Text key of the label when it is not `event.<event>`. */
  label?: string;
}

const steps: Step[] = [];
let status = 'CONNECTING';
let client: RelayClient | undefined;

const { language } = setUpLanguage(() => render());

byId<HTMLFormElement>('payment-form').addEventListener('submit', (event) => {
  event.preventDefault();
  start().catch(showFailure);
});

byId('again').addEventListener('click', () => {
  client?.close();
  client = undefined;
  steps.length = 0;
  byId('payment').hidden = true;
  byId('start').hidden = false;
});

/** Parses "25,90" or "25.90" into cents; `undefined` when it is not an amount. */
function parseCents(value: string): number | undefined {
  const match = /^(\d{1,7})(?:[.,](\d{1,2}))?$/.exec(value.trim());
  if (!match) {
    return undefined;
  }
  return Number(match[1]) * 100 + Number((match[2] ?? '0').padEnd(2, '0'));
}

async function start(): Promise<void> {
  const cents = parseCents(byId<HTMLInputElement>('amount').value) ?? 0;
  const description = byId<HTMLInputElement>('description').value.slice(0, 60);
  const roomId = `demo-${crypto.randomUUID().slice(0, 8)}`;
  const query = new URLSearchParams({ amount: String(cents), description });
  const link = `${publicOrigin()}/p/${roomId}?${query.toString()}`;

  byId('start').hidden = true;
  byId('payment').hidden = false;
  const anchor = byId<HTMLAnchorElement>('payment-link');
  anchor.href = link;
  anchor.textContent = link;
  byId<HTMLImageElement>('qr').src = `/demo/qr/${roomId}?${query.toString()}`;
  setStatus('CONNECTING');

  client = new RelayClient({
    url: relayUrl(),
    clientId: tabClientId('creator'),
  });
  await client.connect();
  const room = await client.joinRoom(roomId, 'CREATOR');
  watch(room);
  setStatus(shownStatus(room));
}

/**
 * Returns the room's status, or `CLAIMED` while the payer's device reports
 * a success that the payment backend has not confirmed.
 */
function shownStatus(room: RelayRoom): string {
  const claim = room.claimedResult;
  if (claim?.event === 'PAYMENT_SUCCESS' && room.status !== 'PAID') {
    return 'CLAIMED';
  }
  return room.status;
}

function watch(room: RelayRoom): void {
  room.on('peerJoined', (peer) => {
    if (peer.role === 'PAYER') {
      addStep({ event: 'PEER_JOINED', at: new Date() });
    }
  });
  room.on('peerLeft', (peer) => {
    if (peer.role === 'PAYER') {
      addStep({ event: 'PEER_LEFT', at: new Date() });
    }
  });
  room.on('event', (frame) => {
    const data = frame.data;
    // A text key for a payment method, the plain code for an error.
    const detail =
      typeof data.method === 'string'
        ? `method.${data.method}`
        : typeof data.code === 'string'
          ? data.code
          : undefined;
    // A success no payment backend confirmed is only the payer's report.
    const label =
      frame.event === 'PAYMENT_SUCCESS' && data.verified !== true
        ? 'event.PAYMENT_SUCCESS_CLAIMED'
        : undefined;
    addStep({ event: frame.event, at: new Date(data.at), detail, label });
  });
  room.on('status', () => setStatus(shownStatus(room)));
  room.on('claimedResult', () => setStatus(shownStatus(room)));
  room.on('closed', () => setStatus('CLOSED'));
}

function addStep(step: Step): void {
  steps.push(step);
  render();
}

function setStatus(next: string): void {
  status = next;
  render();
}

function render(): void {
  const current: Language = language();
  const badge = byId('status');
  badge.dataset.status = status;
  badge.dataset.i18n = `status.${status}`;
  badge.textContent = text(current, `status.${status}`);

  const list = byId('timeline');
  list.replaceChildren(
    ...steps.map((step) => {
      const item = document.createElement('li');
      item.dataset.event = step.event;
      const label = document.createElement('span');
      const name = text(current, step.label ?? `event.${step.event}`);
      label.textContent = step.detail
        ? `${name} (${text(current, step.detail)})`
        : name;
      const time = document.createElement('time');
      time.dateTime = step.at.toISOString();
      time.textContent = step.at.toLocaleTimeString(current);
      item.append(label, time);
      return item;
    }),
  );
  byId('timeline-empty').hidden = steps.length > 0;
}

function showFailure(error: unknown): void {
  setStatus('CLOSED');
  const item = document.createElement('li');
  item.className = 'error';
  item.textContent = error instanceof Error ? error.message : String(error);
  byId('timeline').append(item);
}
