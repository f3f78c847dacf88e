import { createHash } from 'node:crypto';

/** A Lua script with its SHA1, for `EVALSHA`. */
export interface LuaScript {
  name: string;
  source: string;
  sha: string;
}

function script(name: string, body: string): LuaScript {
  const source = ROOM_PRELUDE + body;
  return {
    name,
    source,
    sha: createHash('sha1').update(source).digest('hex'),
  };
}

/*
 * Every room script gets the room's four keys (see `RedisKeys.room`) and
 * starts its arguments with: ARGV[1] now (ms), ARGV[2] idle TTL (ms),
 * ARGV[3] maximum age (ms), ARGV[4] grace added to key TTLs (ms).
 *
 * `finish` sets the TTL of the room's keys after a change. It returns the
 * time at which the sweep must look at the room next, which is when the
 * room closes (its `expiresAt` or maximum age) or, once empty, when its
 * idle TTL ends, whichever comes first. A room with members lives until it
 * closes plus the idle TTL; an empty room lives for the idle TTL. The grace
 * lets the sweep remove a room, and tell the instances, before Redis drops
 * its keys on its own.
 */
const ROOM_PRELUDE = `
local now = tonumber(ARGV[1])
local idleTtl = tonumber(ARGV[2])
local maxAge = tonumber(ARGV[3])
local grace = tonumber(ARGV[4])

local function closeTime()
  local times = redis.call('HMGET', KEYS[1], 'createdAt', 'expiresAt')
  local closeAt = tonumber(times[1]) + maxAge
  local expiresAt = tonumber(times[2])
  if expiresAt and expiresAt < closeAt then
    closeAt = expiresAt
  end
  return closeAt
end

local function finish()
  local state = redis.call('HMGET', KEYS[1], 'emptySince', 'closedReason')
  local emptySince = tonumber(state[1])
  local due
  local ttl
  if emptySince then
    due = emptySince + idleTtl
    ttl = math.max(due - now, 0) + grace
    if not state[2] then
      due = math.min(due, closeTime())
    end
  else
    due = closeTime()
    ttl = math.max(due - now, 0) + idleTtl + grace
  end
  for i = 1, 4 do
    redis.call('PEXPIRE', KEYS[i], math.floor(ttl))
  end
  return due
end
`;

/**
 * Adds a member, creating the room on its first join (`MemoryRoomStore.join`).
 * ARGV[5] clientId, [6] role, [7] connectionId, [8] member JSON,
 * [9] lastSeq, [10] expiresAt or '', [11] creators allowed.
 * Returns {'ROOM_CLOSED', reason}, {'FORBIDDEN', role of the member with
 * the same clientId or connection}, {'ROOM_FULL', members of the role} or
 * {'OK', ...}.
 */
export const JOIN_SCRIPT = script(
  'join',
  `
local created = 0
if redis.call('EXISTS', KEYS[1]) == 0 then
  created = 1
  redis.call('HSET', KEYS[1], 'status', 'OPEN', 'pendingPayment', '0',
    'paidVerified', '0', 'seq', '0', 'createdAt', ARGV[1])
end

local closedReason = redis.call('HGET', KEYS[1], 'closedReason')
if closedReason then
  return {'ROOM_CLOSED', closedReason}
end

local clientId, role, connectionId = ARGV[5], ARGV[6], ARGV[7]
local entries = redis.call('HGETALL', KEYS[2])
local replacedField = false
local replaced = false
local replacedRole = false
local taken = 0
for i = 1, #entries, 2 do
  local member = cjson.decode(entries[i + 1])
  if not replacedField and
      (member.clientId == clientId or entries[i] == connectionId) then
    replacedField = entries[i]
    replaced = entries[i + 1]
    replacedRole = member.role
  elseif member.role == role then
    taken = taken + 1
  end
end

-- Only a member of the same role may be replaced, so that a payer cannot
-- take over a creator's clientId. A room created by this join is empty.
if replacedField and replacedRole ~= role then
  return {'FORBIDDEN', replacedRole}
end

local capacity = 1
if role == 'CREATOR' then
  capacity = tonumber(ARGV[11])
end
if taken >= capacity then
  if created == 1 then
    redis.call('DEL', KEYS[1])
  end
  return {'ROOM_FULL', taken}
end

if replacedField then
  redis.call('HDEL', KEYS[2], replacedField)
end
redis.call('HSET', KEYS[2], connectionId, ARGV[8])
redis.call('HDEL', KEYS[1], 'emptySince')
if ARGV[10] ~= '' then
  redis.call('HSET', KEYS[1], 'expiresAt', ARGV[10])
end
local due = finish()

local room = redis.call('HMGET', KEYS[1], 'status', 'seq', 'createdAt', 'expiresAt')
local seq = tonumber(room[2])
local after = tonumber(ARGV[9])
local retained = redis.call('LLEN', KEYS[3])
local oldest = seq - retained + 1
local missed = {}
local truncated = 0
if after < seq then
  missed = redis.call('LRANGE', KEYS[3], math.max(after + 1 - oldest, 0), -1)
  if oldest > after + 1 then
    truncated = 1
  end
end

return {'OK', created, room[1], room[2], room[3], room[4] or '',
  replaced or '', redis.call('HVALS', KEYS[2]), missed, truncated, due}
`,
);

/**
 * Removes the member held by a connection (`MemoryRoomStore.leave`).
 * ARGV[5] connectionId, [6] instance id the member must belong to, or ''.
 * Returns nil when it is not a member.
 */
export const LEAVE_SCRIPT = script(
  'leave',
  `
local value = redis.call('HGET', KEYS[2], ARGV[5])
if not value then
  return false
end
if ARGV[6] ~= '' and cjson.decode(value).instanceId ~= ARGV[6] then
  return false
end

redis.call('HDEL', KEYS[2], ARGV[5])
local remaining = redis.call('HLEN', KEYS[2])
if remaining == 0 then
  redis.call('HSET', KEYS[1], 'emptySince', ARGV[1])
end
return {value, remaining, finish()}
`,
);

/**
 * Accepts a flow event (`MemoryRoomStore.append`): duplicate check,
 * membership check, the transition of `applyFlowEffect`, `seq`, history and
 * publication to the room's channel, in one step.
 * ARGV[5] connectionId or '', [6] eventId, [7] effect status or '',
 * [8] effect requiresPendingPayment '1'/'0', [9] effect pendingPayment
 * '1'/'0'/'', [10] effect verified '1'/'0', [11] frame head, [12] frame
 * tail, [13] history limit, [14] event limit, [15] channel, [16] publish
 * command (SPUBLISH or PUBLISH), [17] roomId, [18] '1' to create the room,
 * empty, when it does not exist (only without a connectionId).
 *
 * A rejected transition returns the flow state, and the caller runs
 * `applyFlowEffect` on it for the reason, so the wording stays in one place.
 * The room is created only when the event is accepted, so a rejected event
 * leaves nothing behind. NOTE: `MemoryRoomStore` keeps the empty room in
 * that case; no caller gets there, because a verified result is always
 * accepted by a new room.
 */
export const APPEND_SCRIPT = script(
  'append',
  `
local connectionId = ARGV[5]
local create = redis.call('EXISTS', KEYS[1]) == 0
if create and (connectionId ~= '' or ARGV[18] ~= '1') then
  return {'NOT_IN_ROOM'}
end
if connectionId ~= '' and redis.call('HEXISTS', KEYS[2], connectionId) == 0 then
  return {'NOT_IN_ROOM'}
end

local recipients = redis.call('HLEN', KEYS[2])
if connectionId ~= '' then
  recipients = recipients - 1
end
local state
if create then
  state = {'OPEN', '0', '0'}
else
  state = redis.call('HMGET', KEYS[1], 'status', 'pendingPayment', 'paidVerified')
end
local status = state[1]
local pending = state[2] == '1'
local verified = state[3] == '1'

local acceptedSeq = redis.call('HGET', KEYS[4], ARGV[6])
if acceptedSeq then
  return {'DUPLICATE', tonumber(acceptedSeq), 0, status}
end

local nextStatus = status
if ARGV[7] ~= '' then
  nextStatus = ARGV[7]
end
local nextPending
local nextVerified
if ARGV[10] == '1' then
  if verified then
    return {'REJECTED', status, state[2], state[3]}
  end
  nextPending = false
  nextVerified = nextStatus == 'PAID'
else
  if status == 'PAID' or (ARGV[8] == '1' and not pending) then
    return {'REJECTED', status, state[2], state[3]}
  end
  nextPending = pending
  if ARGV[9] ~= '' then
    nextPending = ARGV[9] == '1'
  end
  nextVerified = verified
end

if redis.call('HLEN', KEYS[4]) >= tonumber(ARGV[14]) then
  return {'EVENT_LIMIT'}
end

if create then
  redis.call('HSET', KEYS[1], 'status', 'OPEN', 'pendingPayment', '0',
    'paidVerified', '0', 'seq', '0', 'createdAt', ARGV[1],
    'emptySince', ARGV[1])
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[1], 'status', nextStatus,
  'pendingPayment', nextPending and '1' or '0',
  'paidVerified', nextVerified and '1' or '0')
redis.call('HSET', KEYS[4], ARGV[6], seq)
local frame = ARGV[11] .. seq .. ARGV[12]
local historyLimit = tonumber(ARGV[13])
if historyLimit > 0 then
  redis.call('RPUSH', KEYS[3], connectionId .. '\\n' .. frame)
  redis.call('LTRIM', KEYS[3], -historyLimit, -1)
end
redis.call(ARGV[16], ARGV[15],
  cjson.encode({r = ARGV[17], s = seq, f = frame, x = connectionId}))

local createdAt = ''
if create then
  createdAt = ARGV[1]
end
return {'OK', seq, recipients, nextStatus, finish(), createdAt}
`,
);

/**
 * Records the highest contiguous `seq` a member confirmed
 * (`MemoryRoomStore.confirmReceived`). ARGV[5] connectionId, [6] seq.
 * Returns nil when the connection is not a member.
 */
export const CONFIRM_RECEIVED_SCRIPT = script(
  'confirmReceived',
  `
local value = redis.call('HGET', KEYS[2], ARGV[5])
if not value then
  return false
end

local member = cjson.decode(value)
local roomSeq = tonumber(redis.call('HGET', KEYS[1], 'seq'))
local confirmed = math.min(tonumber(ARGV[6]), roomSeq)
local advanced = 0
if confirmed > member.receivedSeq then
  member.receivedSeq = confirmed
  value = cjson.encode(member)
  redis.call('HSET', KEYS[2], ARGV[5], value)
  advanced = 1
end
return {value, advanced}
`,
);

/**
 * Removes a room empty for longer than the idle TTL, or closes one past its
 * `expiresAt` or maximum age, empty or not (`MemoryRoomStore.sweep`, for
 * one room). A closed room keeps the time it emptied, or empties now, and
 * the idle TTL then removes it.
 * Returns {'GONE'}, {'REMOVED'}, {'WAIT', due} or
 * {'CLOSED', reason, due, removed member JSONs}.
 */
export const SWEEP_SCRIPT = script(
  'sweep',
  `
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'GONE'}
end

local state = redis.call('HMGET', KEYS[1], 'emptySince', 'closedReason',
  'createdAt', 'expiresAt')
local emptySince = tonumber(state[1])
if emptySince and now - emptySince >= idleTtl then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
  return {'REMOVED'}
end
if state[2] then
  return {'WAIT', finish()}
end

local reason = false
if state[4] and tonumber(state[4]) <= now then
  reason = 'EXPIRED'
elseif now - tonumber(state[3]) >= maxAge then
  reason = 'MAX_AGE'
end
if not reason then
  return {'WAIT', finish()}
end

local members = redis.call('HVALS', KEYS[2])
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'closedReason', reason)
if not emptySince then
  redis.call('HSET', KEYS[1], 'emptySince', ARGV[1])
end
return {'CLOSED', reason, finish(), members}
`,
);

/**
 * Records a heartbeat in Redis server time, so instance clocks need not
 * agree. KEYS[1] instance index, KEYS[2] the instance's stats key, KEYS[3]
 * the instance's member set. ARGV[1] instance id, [2] stats JSON, [3] time
 * after which an instance without a heartbeat is dead (ms), [4] how long
 * the index and the member set outlive the last heartbeat (ms), the
 * longest a room can live. Returns {1 when the index still held this
 * instance before this heartbeat, else 0; ids of dead instances}. The
 * index loses an instance when another one reaped it, or with Redis's data.
 */
export const HEARTBEAT_SCRIPT: LuaScript = (() => {
  const source = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local listed = 0
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  listed = 1
end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
return {listed,
  redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]))}
`;
  return {
    name: 'heartbeat',
    source,
    sha: createHash('sha1').update(source).digest('hex'),
  };
})();
