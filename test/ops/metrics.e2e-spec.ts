import { TestClient } from '../support/test-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import {
  parsePrometheusText,
  sampleValue,
  type Sample,
} from './prometheus-text.js';

async function scrape(server: TestServer): Promise<Sample[]> {
  const response = await fetch(`${server.httpUrl}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return parsePrometheusText(await response.text());
}

/** Label names each relay metric may carry: closed sets only, never an id. */
const ALLOWED_LABELS: Record<string, string[]> = {
  relay_room_joins_total: ['role'],
  relay_room_leaves_total: ['role'],
  relay_rooms_closed_total: ['reason'],
  relay_events_relayed_total: ['event', 'duplicate'],
  relay_messages_rejected_total: ['code'],
  relay_latency_seconds_bucket: ['event', 'le'],
  relay_latency_seconds_sum: ['event'],
  relay_latency_seconds_count: ['event'],
  relay_rooms: ['status'],
};

describe('metrics endpoint', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('moves when a payment flow runs', async () => {
    const before = await scrape(server);
    const creator = await TestClient.connect(server.wsUrl);
    const payer = await TestClient.connect(server.wsUrl);
    await creator.join('metrics-room', 'CREATOR');
    await payer.join('metrics-room', 'PAYER');
    await payer.request('ENTERED_SUMMARY', { roomId: 'metrics-room' });
    await payer.request('CLICKED_PAY', {
      roomId: 'metrics-room',
      eventId: 'pay-1',
    });
    await payer.request('CLICKED_PAY', {
      roomId: 'metrics-room',
      eventId: 'pay-1',
    });
    await payer.request('PAYMENT_ERROR', {
      roomId: 'metrics-room',
      code: 'DECLINED',
    });
    await payer.request('CLICKED_PAY', { roomId: 'metrics-room' });
    await payer.request('PAYMENT_SUCCESS', { roomId: 'metrics-room' });
    await payer.expectError('NO_SUCH_EVENT', { roomId: 'metrics-room' });
    await creator.sync();

    const after = await scrape(server);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);

    expect(sampleValue(after, 'relay_connections_open')).toBe(2);
    expect(delta('relay_room_joins_total', { role: 'CREATOR' })).toBe(1);
    expect(delta('relay_room_joins_total', { role: 'PAYER' })).toBe(1);
    expect(delta('relay_rooms_created_total')).toBe(1);
    expect(
      delta('relay_events_relayed_total', {
        event: 'CLICKED_PAY',
        duplicate: 'false',
      }),
    ).toBe(2);
    expect(
      delta('relay_events_relayed_total', {
        event: 'CLICKED_PAY',
        duplicate: 'true',
      }),
    ).toBe(1);
    expect(
      delta('relay_messages_rejected_total', { code: 'UNKNOWN_EVENT' }),
    ).toBe(1);
    expect(delta('relay_payments_completed_total')).toBe(1);
    expect(delta('relay_payments_failed_total')).toBe(1);
    expect(
      delta('relay_latency_seconds_count', { event: 'PAYMENT_SUCCESS' }),
    ).toBe(1);
    expect(sampleValue(after, 'relay_rooms', { status: 'PAID' })).toBe(1);
    expect(sampleValue(after, 'relay_rooms', { status: 'OPEN' })).toBe(0);

    await creator.close();
    await payer.close();
  });

  it('includes Node process metrics', async () => {
    const samples = await scrape(server);
    expect(
      samples.some((s) => s.name === 'process_cpu_user_seconds_total'),
    ).toBe(true);
    expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(
      true,
    );
  });

  it('labels relay metrics with closed sets only', async () => {
    const client = await TestClient.connect(server.wsUrl);
    await client.join('label-room-with-an-id', 'CREATOR');
    await client.expectError('BOGUS_EVENT_NAME', {});
    const samples = await scrape(server);
    const unexpected = samples
      .filter((sample) => sample.name.startsWith('relay_'))
      .flatMap((sample) =>
        Object.entries(sample.labels)
          .filter(
            ([label, value]) =>
              !(ALLOWED_LABELS[sample.name] ?? []).includes(label) ||
              value === 'label-room-with-an-id' ||
              value === 'BOGUS_EVENT_NAME',
          )
          .map(([label, value]) => `${sample.name}{${label}="${value}"}`),
      );
    expect(unexpected).toEqual([]);
    await client.close();
  });
});
