import {
  redisUnavailableReason,
  TEST_REDIS_URL,
  uniqueKeyPrefix,
} from './redis-server.js';

/**
 * The room stores the conformance suite runs against. Each entry gives the
 * settings that select the store; `environment` is called once per test
 * server, so a store can hand out an isolated namespace each time.
 */
export interface StoreUnderTest {
  name: string;
  environment(): Record<string, string>;
  /** Returns why the store cannot be used here, or `undefined` when it can. */
  unavailableReason(): Promise<string | undefined>;
}

export const memoryStore: StoreUnderTest = {
  name: 'memory',
  environment: () => ({}),
  unavailableReason: () => Promise.resolve(undefined),
};

/**
 * Redis at `REDIS_URL` (default redis://127.0.0.1:6379). Each test server
 * gets a key prefix of its own, so runs and servers never share rooms.
 */
export const redisStore: StoreUnderTest = {
  name: 'redis',
  environment: () => ({
    ROOM_STORE: 'redis',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: uniqueKeyPrefix('conformance'),
  }),
  unavailableReason: () => redisUnavailableReason(TEST_REDIS_URL),
};

export const STORES: StoreUnderTest[] = [memoryStore, redisStore];

/**
 * Declares one `describe` block per store; test files `await` it at the top
 * level. An unavailable store fails under CI (`CI` set) and is skipped with
 * one visible line elsewhere.
 */
export async function describeEachStore(
  title: string,
  body: (store: StoreUnderTest) => void,
): Promise<void> {
  for (const store of STORES) {
    const name = `${title} (${store.name} store)`;
    const reason = await store.unavailableReason();
    if (reason === undefined) {
      describe(name, () => body(store));
      continue;
    }
    if (process.env.CI) {
      describe(name, () => {
        it('has its store available', () => {
          throw new Error(`${store.name} store unavailable in CI: ${reason}`);
        });
      });
      continue;
    }
    process.stdout.write(`SKIPPED ${name}: ${reason}\n`);
    describe.skip(name, () => body(store));
  }
}
