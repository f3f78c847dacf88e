import type { ErrorCode, ErrorFieldDetail } from '../protocol/index.js';

/**
 * A rejection that reaches the client as an `ERROR` message with a stable code.
 * The message is sent as it is, so it must name the wrong value and never
 * carry internal details.
 */
export class RelayException extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields?: ErrorFieldDetail[],
  ) {
    super(message);
    this.name = RelayException.name;
  }
}
