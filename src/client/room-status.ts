import { ClientEvent, RoomStatus } from '../protocol/index.js';

/**
 * Status each built-in flow event leaves a room in, mirroring the server's
 * flow rules. Relayed frames carry no status, so the client replays the
 * accepted events, in `seq` order, through this table.
 */
const STATUS_AFTER: Readonly<Record<string, RoomStatus>> = {
  [ClientEvent.ENTERED_SUMMARY]: RoomStatus.IN_PROGRESS,
  [ClientEvent.CLICKED_PROCEED]: RoomStatus.IN_PROGRESS,
  [ClientEvent.PAYMENT_METHOD_CHANGED]: RoomStatus.IN_PROGRESS,
  [ClientEvent.DATA_FILLED]: RoomStatus.IN_PROGRESS,
  [ClientEvent.CLICKED_PAY]: RoomStatus.IN_PROGRESS,
  [ClientEvent.PAYMENT_SUCCESS]: RoomStatus.PAID,
  [ClientEvent.PAYMENT_ERROR]: RoomStatus.FAILED,
};

/**
 * Returns the status of a room after the server accepted `event`. An event
 * the table does not list (one an application registered) keeps the status.
 *
 * A `PAYMENT_SUCCESS` moves the status to `PAID` only when `verified` is
 * `true`. A device's success is a claim: with `REQUIRE_VERIFIED_RESULT` the
 * server leaves the room's status unchanged, and the frame does not tell
 * which setting the server runs with. A device's `PAYMENT_ERROR` makes the
 * room `FAILED` under either setting, so it moves the status.
 */
export function statusAfter(
  status: RoomStatus,
  event: string,
  verified?: boolean,
): RoomStatus {
  if (event === ClientEvent.PAYMENT_SUCCESS && verified !== true) {
    return status;
  }
  return Object.hasOwn(STATUS_AFTER, event) ? STATUS_AFTER[event] : status;
}

/** True for the events that report a payment's result. */
export function isResultEvent(event: string): boolean {
  return (
    event === ClientEvent.PAYMENT_SUCCESS || event === ClientEvent.PAYMENT_ERROR
  );
}
