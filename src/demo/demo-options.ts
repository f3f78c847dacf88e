/** Settings of the demo pages. */
export interface DemoOptions {
  /** Serves the pages; when false every demo route answers 404. */
  enabled: boolean;
  /** Origin put in payment links and QR codes; the request's own origin when absent. */
  publicUrl?: string;
  /** Path of the relay's WebSocket endpoint, for the pages to connect to. */
  wsPath: string;
}

/** Injection token of the resolved `DemoOptions`. */
export const DEMO_OPTIONS = Symbol('DEMO_OPTIONS');
