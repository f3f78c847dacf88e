/**
 * Polls a condition until it holds, for state that the server changes on
 * its own timers (sweeps, heartbeats). Fails with `description` after
 * `timeoutMs`.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  description: string,
  timeoutMs = 5_000,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${description}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Fetches JSON from the test server and returns the status and body. */
export async function getJson<T = Record<string, unknown>>(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: T }> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as T };
}
