import { text } from './i18n.js';
import { byId, setUpLanguage } from './page.js';

const TOKEN_KEY = 'payment-relay-demo-admin-token';
const TOTAL_FIELDS = [
  'connections',
  'rooms',
  'relayed',
  'paymentsCompleted',
  'paymentsFailed',
  'rejected',
] as const;

interface RoomView {
  roomId: string;
  removed?: true;
  status?: string;
  members?: { clientId: string; role: string }[];
}

interface StreamData {
  totals: Record<string, number>;
  rooms?: RoomView[];
}

const rooms = new Map<string, RoomView>();
let state: 'live' | 'offline' | 'unauthorized' = 'offline';
let stream: AbortController | undefined;

const { language } = setUpLanguage(() => render());
const tokenInput = byId<HTMLInputElement>('token');
tokenInput.value = sessionStorage.getItem(TOKEN_KEY) ?? '';

byId<HTMLFormElement>('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, tokenInput.value);
  connect();
});
connect();

/**
 * Reads the admin live stream with `fetch`, because `EventSource` cannot
 * send the `Authorization` header that the admin token needs.
 */
function connect(): void {
  stream?.abort();
  stream = new AbortController();
  const signal = stream.signal;
  const headers: Record<string, string> = { Accept: 'text/event-stream' };
  if (tokenInput.value !== '') {
    headers.Authorization = `Bearer ${tokenInput.value}`;
  }
  read(headers, signal).catch(() => {
    if (!signal.aborted) {
      setState('offline');
    }
  });
}

async function read(
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<void> {
  const response = await fetch('/admin/live', { headers, signal });
  if (response.status === 401 || response.status === 403) {
    setState('unauthorized');
    return;
  }
  if (!response.ok || !response.body) {
    setState('offline');
    return;
  }
  setState('live');

  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      setState('offline');
      return;
    }
    buffer += value;
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      handleEvent(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
    }
  }
}

/** Applies one server-sent event block (`event:` and `data:` lines). */
function handleEvent(block: string): void {
  let type = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) {
      type = line.slice(6).trim();
    } else if (line.startsWith('data:')) {
      data.push(line.slice(5).trimStart());
    }
  }
  if (data.length === 0) {
    return;
  }
  const payload = JSON.parse(data.join('\n')) as StreamData;
  if (type === 'snapshot') {
    rooms.clear();
  }
  for (const room of payload.rooms ?? []) {
    if (room.removed) {
      rooms.delete(room.roomId);
    } else {
      rooms.set(room.roomId, room);
    }
  }
  for (const field of TOTAL_FIELDS) {
    byId(`total-${field}`).textContent = String(payload.totals[field] ?? 0);
  }
  render();
}

function setState(next: typeof state): void {
  state = next;
  render();
}

function render(): void {
  const current = language();
  const badge = byId('stream-state');
  badge.dataset.state = state;
  const key =
    state === 'live'
      ? 'admin.live'
      : state === 'unauthorized'
        ? 'admin.unauthorized'
        : 'admin.offline';
  badge.dataset.i18n = key;
  badge.textContent = text(current, key);

  const body = byId('rooms').querySelector('tbody');
  if (!body) {
    return;
  }
  body.replaceChildren(
    ...[...rooms.values()].map((room) => {
      const row = document.createElement('tr');
      row.dataset.roomId = room.roomId;
      const id = document.createElement('td');
      id.textContent = room.roomId;
      const status = document.createElement('td');
      const badge = document.createElement('span');
      badge.className = 'status';
      badge.dataset.status = room.status ?? '';
      badge.textContent = text(current, `status.${room.status ?? 'OPEN'}`);
      status.append(badge);
      const members = document.createElement('td');
      members.append(
        ...(room.members ?? []).map((member) => {
          const line = document.createElement('div');
          line.className = 'member';
          line.textContent = `${member.role} ${member.clientId}`;
          return line;
        }),
      );
      row.append(id, status, members);
      return row;
    }),
  );
}
