import type { RoomStatus } from '../../protocol/index.js';
import type { RoomStore } from '../../relay/rooms/room-store.js';

/** Rooms read per `listRooms` call when a store cannot count by status itself. */
export const ROOM_COUNT_PAGE_SIZE = 1_000;

/**
 * Optional store method that counts rooms by status in one step. A store
 * that keeps such counts (or can ask its database for them) should offer
 * it, because the fallback reads every room.
 */
export interface RoomStatusCounter {
  countRoomsByStatus(): Promise<Partial<Record<RoomStatus, number>>>;
}

function isRoomStatusCounter(store: object): store is RoomStatusCounter {
  return (
    typeof (store as Partial<RoomStatusCounter>).countRoomsByStatus ===
    'function'
  );
}

/**
 * Counts the rooms of a store by status, with the store's own
 * `countRoomsByStatus` when it has one and by paging through `listRooms`
 * otherwise.
 *
 * NOTE: the Redis store has no `countRoomsByStatus` yet, so every scrape
 * reads each room's status there (one pipelined page of 1,000 rooms per
 * round trip). Its cost with many rooms was not measured.
 */
export async function countRoomsByStatus(
  store: RoomStore,
): Promise<Partial<Record<RoomStatus, number>>> {
  if (isRoomStatusCounter(store)) {
    return store.countRoomsByStatus();
  }

  const counts: Partial<Record<RoomStatus, number>> = {};
  for (let offset = 0; ; offset += ROOM_COUNT_PAGE_SIZE) {
    const page = await store.listRooms(offset, ROOM_COUNT_PAGE_SIZE);
    for (const room of page.rooms) {
      counts[room.status] = (counts[room.status] ?? 0) + 1;
    }
    if (
      page.rooms.length < ROOM_COUNT_PAGE_SIZE ||
      offset + ROOM_COUNT_PAGE_SIZE >= page.total
    ) {
      return counts;
    }
  }
}
