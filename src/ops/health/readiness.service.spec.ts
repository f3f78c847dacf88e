import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { RoomStore } from '../../relay/rooms/room-store.js';
import { DEFAULT_OPS_OPTIONS } from '../ops-options.js';
import { ReadinessService } from './readiness.service.js';

function serviceWith(
  store: object,
  readinessCheckTimeoutMs = 50,
): ReadinessService {
  return new ReadinessService(store as RoomStore, {
    ...DEFAULT_OPS_OPTIONS,
    readinessCheckTimeoutMs,
  });
}

describe(ReadinessService.name, () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  it('is ready with a store without availability check', async () => {
    await expect(serviceWith({}).check()).resolves.toEqual({
      ready: true,
      checks: { shutdown: 'ok', store: 'not-applicable' },
    });
  });

  it('is ready while the store is available', async () => {
    const report = await serviceWith({ isAvailable: () => true }).check();
    expect(report.ready).toBe(true);
    expect(report.checks.store).toBe('ok');
  });

  it('is unready while the store is unavailable', async () => {
    const report = await serviceWith({
      isAvailable: () => Promise.resolve(false),
    }).check();
    expect(report.ready).toBe(false);
    expect(report.checks.store).toBe('failing');
  });

  it('is unready when the store check throws', async () => {
    const report = await serviceWith({
      isAvailable: () => {
        throw new Error('connection refused');
      },
    }).check();
    expect(report.checks.store).toBe('failing');
  });

  it('is unready when the store check times out', async () => {
    const report = await serviceWith({
      isAvailable: () => new Promise<boolean>(() => undefined),
    }).check();
    expect(report.checks.store).toBe('failing');
  });

  it('is unready once shutdown starts', async () => {
    const service = serviceWith({});
    const listener = jest.fn();
    service.onShutdown(listener);
    await service.onModuleDestroy();
    const report = await service.check();
    expect(report.ready).toBe(false);
    expect(report.checks.shutdown).toBe('failing');
    expect(listener).toHaveBeenCalledTimes(1);
  });
});
