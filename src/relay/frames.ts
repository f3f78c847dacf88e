import {
  ServerEvent,
  type AckData,
  type DeliveredData,
  type ErrorData,
  type Peer,
  type PeerEventData,
  type RoomClosedData,
  type RoomJoinedData,
  type RoomLeftData,
} from '../protocol/index.js';
import type { FrameTemplate } from './rooms/room-store.js';

/** Serializes one `{event, data}` frame. */
export function encodeFrame(event: string, data: unknown): string {
  return JSON.stringify({ event, data });
}

/**
 * Serializes `ROOM_JOINED`. `missed` arrives already serialized from the
 * store and is spliced in as it is, so history is never parsed again.
 */
export function roomJoinedFrame(
  data: Omit<RoomJoinedData, 'missed'>,
  missed: string[],
): string {
  const head = JSON.stringify({ event: ServerEvent.ROOM_JOINED, data });
  return `${head.slice(0, -2)},"missed":[${missed.join(',')}]}}`;
}

/**
 * Builds a relayed flow event around its `seq`: `roomId`, `seq`, `eventId`,
 * `at`, `from` and, for result events, `verified` first, then the validated
 * fields of the event.
 * @param from the sending device; `undefined` for a result the payment
 *   backend reported, which then has no `from`.
 * @param verified set for result events only: whether the payment backend
 *   reported the result.
 */
export function relayedEventTemplate(
  event: string,
  roomId: string,
  eventId: string,
  at: string,
  from: Peer | undefined,
  fields: Record<string, unknown>,
  verified?: boolean,
): FrameTemplate {
  const head = `{"event":${JSON.stringify(event)},"data":{"roomId":${JSON.stringify(roomId)},"seq":`;
  const rest = JSON.stringify(fields);
  const extra = rest === '{}' ? '' : `,${rest.slice(1, -1)}`;
  const sender = from === undefined ? '' : `,"from":${JSON.stringify(from)}`;
  const verdict =
    verified === undefined ? '' : `,"verified":${String(verified)}`;
  const tail = `,"eventId":${JSON.stringify(eventId)},"at":${JSON.stringify(at)}${sender}${verdict}${extra}}}`;
  return { head, tail };
}

export const ackFrame = (data: AckData): string =>
  encodeFrame(ServerEvent.ACK, data);

export const deliveredFrame = (data: DeliveredData): string =>
  encodeFrame(ServerEvent.DELIVERED, data);

export const errorFrame = (data: ErrorData): string =>
  encodeFrame(ServerEvent.ERROR, data);

export const peerJoinedFrame = (data: PeerEventData): string =>
  encodeFrame(ServerEvent.PEER_JOINED, data);

export const peerLeftFrame = (data: PeerEventData): string =>
  encodeFrame(ServerEvent.PEER_LEFT, data);

export const roomLeftFrame = (data: RoomLeftData): string =>
  encodeFrame(ServerEvent.ROOM_LEFT, data);

export const roomClosedFrame = (data: RoomClosedData): string =>
  encodeFrame(ServerEvent.ROOM_CLOSED, data);
