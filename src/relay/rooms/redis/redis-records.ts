import type { MemberRecord } from '../room-store.js';

/** A member as Redis stores it: the record plus the instance with its connection. */
export interface StoredMember extends MemberRecord {
  instanceId: string;
}

/** Returns an instance member set's entry for one membership. */
export function memberEntry(roomId: string, connectionId: string): string {
  return `${roomId}\n${connectionId}`;
}

/** Splits an instance member set's entry into room id and connection id. */
export function splitMemberEntry(entry: string): [string, string] {
  const cut = entry.indexOf('\n');
  return [entry.slice(0, cut), entry.slice(cut + 1)];
}

/** Splits a history entry into its sender connection ('' for the server) and frame. */
export function splitHistoryEntry(entry: string): [string, string] {
  const cut = entry.indexOf('\n');
  return [entry.slice(0, cut), entry.slice(cut + 1)];
}

export function historyFrame(entry: string): string {
  return splitHistoryEntry(entry)[1];
}

export function parseMember(json: string): StoredMember {
  return JSON.parse(json) as StoredMember;
}

export function toMemberRecord(member: StoredMember): MemberRecord {
  return {
    clientId: member.clientId,
    role: member.role,
    connectionId: member.connectionId,
    joinedAt: Number(member.joinedAt),
    receivedSeq: Number(member.receivedSeq),
  };
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
