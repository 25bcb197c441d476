/**
 * The Redis store's Lua scripts. Each one runs atomically inside Redis, so
 * counts stay exact however many trackers write to one swarm at once.
 *
 * A swarm's keys all carry its hash tag `{<hex info_hash>}` (one Cluster
 * slot), in this order:
 *   1 `…:i`  hash: identity field `<family><peer id>` →
 *            `<s|l><last, u32><slot, u32><compact addr>`; `m` (META: the
 *            second of the last purge, peers in each segment, downloaded,
 *            the rotating position; one field, read and written in one
 *            step: each field of a small hash is a linear search)
 *   2 `…:4s` 3 `…:4l` 4 `…:6s` 5 `…:6l`  sorted sets of seeders / leechers
 *            by family: member the identity field, score last announce (expiry)
 *   6 `…:b4s` 7 `…:b4l` 8 `…:b6s` 9 `…:b6l`  the same peers as strings of
 *            fixed-size records `<peer id><compact addr>` (26 or 38 bytes),
 *            peer n at slot n: a reply's peers are one GETRANGE, not one
 *            Lua string per peer (which cost 19 µs of Redis time at numwant
 *            50). A peer that leaves is replaced by the segment's last.
 * The tracker-wide keys share the tag `{wk}`: `live` (peers by role and
 * second of last announce), `t` (torrent → newest announce), `z` (torrent →
 * peers, for the top swarms). A swarm script never touches them (they are
 * written in batches by redis-pending.ts); the announce script does span
 * swarms, so the store needs one Redis, not a Cluster.
 */

/** A swarm's figures, one field `m` of its hash: second of the last purge, peers in each segment (4s 4l 6s 6l), downloaded, rotating position. */
const META = '>I4I4I4I4I4dd';

/** Bytes per announce record, and per reply header (struct '>bi4i4i4i4bi4bI4I4i4i4B'). */
export const RECORD_SIZE = 87;
export const REPLY_HEADER = 40;

/**
 * A batch of announces in one script call (one round trip and one script
 * run for every announce that arrived in the same turn of the tracker's
 * event loop). ARGV: key prefix, peer TTL, key TTL, then the records packed
 * in one string, each RECORD_SIZE bytes: family ('4'|'6'), flags (1 seeder,
 * 2 admit check), event (s c x n), numwant (u16), now (u32), hex info_hash
 * (40), peer id (20), compact address (18; the first 6 for IPv4).
 * Seconds come from the tracker's clock: trackers sharing a Redis keep
 * their clocks in step (NTP). The keys are derived from the records, not
 * declared: a batch spans many swarms, so it needs one Redis (a primary
 * with replicas, or Sentinel), not a Cluster.
 *
 * Per announce: expired peers are purged at the first announce of each
 * second (the cutoff moves only then), so a returning peer makes HMGET,
 * ZADD, HSET and one or two GETRANGEs. Returns an array: for each announce
 * a header of REPLY_HEADER bytes (status 0, 2 emptied, -1 needs a place
 * under maxTorrents; complete, incomplete, downloaded, wanted, previous role
 * 0 none 1 seeder 2 leecher, previous last announce, new role, IPv6
 * records' length, IPv4 records' length, where the requester's own record
 * is among its family's records or -1, where its own IPv4 record is among
 * the IPv4 records (an IPv6 requester) or -1, how many pieces follow), then the
 * pieces of records (IPv6 ones first): up to wanted + 1 from the rotating
 * position; the caller leaves the requester out. Pieces are returned as
 * they were read, never joined: Redis's Lua hashes every byte of every
 * string it makes, which made joining them the costliest part of an
 * announce.
 */
export const ANNOUNCE_BATCH_LUA = `
local HEADER = '>bi4i4i4i4bi4bI4I4i4i4B'
local META = '${META}'
local REFUSED = struct.pack(HEADER, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, 0)
-- A swarm's key names, built when first used (each Lua string costs a hash of all its bytes in Redis's Lua).
local SUFFIX = {'i', '4s', '4l', '6s', '6l', 'b4s', 'b4l', 'b6s', 'b6l'}
local KEYNAMES = {__index = function(t, k)
  local v = t[0] .. SUFFIX[k]
  t[k] = v
  return v
end}
local SIZE = {false, 26, 26, 38, 38}
local FAM = {false, '4', '4', '6', '6'}
-- Takes the record at slot s out of segment k: the segment's last record moves into it.
local function unslot(K, n, k, s)
  local size = SIZE[k]
  local last = n[k] - 1
  if s ~= last then
    local rec = redis.call('GETRANGE', K[k + 4], last * size, last * size + size - 1)
    redis.call('SETRANGE', K[k + 4], s * size, rec)
    local mf = FAM[k] .. string.sub(rec, 1, 20)
    local mv = redis.call('HGET', K[1], mf)
    if mv then redis.call('HSET', K[1], mf, string.sub(mv, 1, 5) .. struct.pack('>I4', s) .. string.sub(mv, 10)) end
  end
  n[k] = last
end
local function one(out, K, now, cutoff, pid, addr, fam, seeder, admit, ev, numwant, ttl)
  local I = K[1]
  local idf = fam .. pid
  -- An IPv6 requester is handed IPv4 peers too, never its own IPv4 record (a dual-stack client).
  local twf = false
  if fam == '6' then twf = '4' .. pid end
  local h = redis.call('HMGET', I, 'm', idf, twf or idf)
  local pt, n, dl, cur = 0, {0, 0, 0, 0, 0}, 0, 0
  if h[1] then pt, n[2], n[3], n[4], n[5], dl, cur = struct.unpack(META, h[1]) end
  local prev = h[2]
  local refresh = false
  if not h[1] then
    -- No swarm, or its hash expired: what is left of it holds only expired peers.
    redis.call('DEL', K[2], K[3], K[4], K[5], K[6], K[7], K[8], K[9])
    n = {0, 0, 0, 0, 0}
    prev = false
    refresh = true
  elseif pt ~= now then
    refresh = true
    local purged = false
    for k = 2, 5 do
      if n[k] > 0 then
        local gone = redis.call('ZRANGEBYSCORE', K[k], '-inf', cutoff)
        if #gone > 0 then
          for j = 1, #gone do
            local v = redis.call('HGET', I, gone[j])
            if v then unslot(K, n, k, struct.unpack('>I4', v, 6)) end
          end
          for j = 1, #gone, 1000 do redis.call('HDEL', I, unpack(gone, j, math.min(j + 999, #gone))) end
          redis.call('ZREMRANGEBYSCORE', K[k], '-inf', cutoff)
          purged = true
        end
      end
    end
    -- The purge may have moved the requester's own record (or removed it): read it again.
    if purged and prev then prev = redis.call('HGET', I, idf) end
    if purged and twf and h[3] then h[3] = redis.call('HGET', I, twf) end
  end
  local live = n[2] + n[3] + n[4] + n[5]
  if admit and live == 0 and ev ~= 'x' then
    out[#out + 1] = REFUSED
    return
  end
  local sk, lk = 2, 3
  if fam == '6' then sk, lk = 4, 5 end
  local prevRole, prevLast, oldK, oldSlot, oldAddr = 0, -1, 0, -1, false
  if prev then
    prevLast = struct.unpack('>I4', prev, 2)
    -- Purged above if it had expired.
    if prevLast > cutoff then
      if string.sub(prev, 1, 1) == 's' then oldK, prevRole = sk, 1 else oldK, prevRole = lk, 2 end
      oldSlot = struct.unpack('>I4', prev, 6)
      oldAddr = string.sub(prev, 10)
    else
      prevLast = -1
    end
  end
  local newRole, newK, mySlot = 0, 0, -1
  if ev == 'x' then
    if oldK > 0 then
      unslot(K, n, oldK, oldSlot)
      redis.call('ZREM', K[oldK], idf)
      redis.call('HDEL', I, idf)
    end
  else
    newK, newRole = lk, 2
    if seeder then newK, newRole = sk, 1 end
    if oldK > 0 and oldK ~= newK then
      unslot(K, n, oldK, oldSlot)
      redis.call('ZREM', K[oldK], idf)
      oldK = 0
    end
    if oldK == 0 then
      mySlot = n[newK]
      redis.call('SETRANGE', K[newK + 4], mySlot * SIZE[newK], pid .. addr)
      n[newK] = n[newK] + 1
      if n[newK] == 1 then refresh = true end
    else
      mySlot = oldSlot
      if oldAddr ~= addr then redis.call('SETRANGE', K[newK + 4], mySlot * SIZE[newK] + 20, addr) end
    end
    redis.call('ZADD', K[newK], now, idf)
    if ev == 'c' and prevRole ~= 1 then dl = dl + 1 end
  end
  local complete = n[2] + n[4]
  local incomplete = n[3] + n[5]
  local status = 0
  local blob6, blob4 = {}, {}
  local len6, len4, selfAt, twinAt = 0, 0, -1, -1
  local twinK, twinSlot = 0, -1
  if twf and h[3] and newRole > 0 then
    local tl = struct.unpack('>I4', h[3], 2)
    if tl > cutoff then
      if string.sub(h[3], 1, 1) == 's' then twinK = 2 else twinK = 3 end
      -- A seeder is handed leechers only: its seeding twin is not among them.
      if newRole == 1 and twinK == 2 then twinK = 0 end
      twinSlot = struct.unpack('>I4', h[3], 6)
    end
  end
  local want = 0
  if newRole > 0 then
    -- A seeder is handed only leechers; an IPv6 client both families.
    local segs
    if fam == '6' then
      if newRole == 2 then segs = {4, 5, 2, 3} else segs = {5, 3} end
    else
      if newRole == 2 then segs = {2, 3} else segs = {3} end
    end
    local total = 0
    for _, k in ipairs(segs) do total = total + n[k] end
    local self = 0
    if newRole == 2 then self = 1 end
    if twinK > 0 then self = self + 1 end
    want = math.min(numwant, total - self)
    if want > 0 then
      local pos = cur % total
      cur = cur + want
      if cur > 1e15 then cur = 0 end
      local left = math.min(want + self, total)
      while left > 0 do
        local o = 0
        for _, k in ipairs(segs) do
          if pos < o + n[k] then
            local a = pos - o
            local b = math.min(n[k] - 1, a + left - 1)
            local size = SIZE[k]
            local ms = redis.call('GETRANGE', K[k + 4], a * size, (b + 1) * size - 1)
            if k >= 4 then
              if k == newK and mySlot >= a and mySlot <= b then selfAt = len6 + (mySlot - a) * size end
              blob6[#blob6 + 1] = ms
              len6 = len6 + #ms
            else
              if k == newK and mySlot >= a and mySlot <= b then selfAt = len4 + (mySlot - a) * size end
              if k == twinK and twinSlot >= a and twinSlot <= b then twinAt = len4 + (twinSlot - a) * size end
              blob4[#blob4 + 1] = ms
              len4 = len4 + #ms
            end
            left = left - (b - a + 1)
            pos = (pos + b - a + 1) % total
            break
          end
          o = o + n[k]
        end
      end
    end
    if want < 0 then want = 0 end
  end
  if complete + incomplete == 0 then
    redis.call('DEL', I, K[2], K[3], K[4], K[5], K[6], K[7], K[8], K[9])
    status = 2
  else
    if newRole > 0 then
      local role = 'l'
      if newRole == 1 then role = 's' end
      redis.call('HSET', I, 'm', struct.pack(META, now, n[2], n[3], n[4], n[5], dl, cur), idf, role .. struct.pack('>I4I4', now, mySlot) .. addr)
    else
      redis.call('HSET', I, 'm', struct.pack(META, now, n[2], n[3], n[4], n[5], dl, cur))
    end
    -- Keys outlive their newest peer: refreshed at the first announce of each second, and when created.
    if refresh then
      redis.call('EXPIRE', I, ttl)
      for k = 2, 5 do
        if n[k] > 0 then
          redis.call('EXPIRE', K[k], ttl)
          redis.call('EXPIRE', K[k + 4], ttl)
        end
      end
    end
  end
  out[#out + 1] = struct.pack(HEADER, status, complete, incomplete, dl, want, prevRole, prevLast, newRole, len6, len4, selfAt, twinAt, #blob6 + #blob4)
  for j = 1, #blob6 do out[#out + 1] = blob6[j] end
  for j = 1, #blob4 do out[#out + 1] = blob4[j] end
end
local prefix, peerTtl, ttl, recs = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local out = {}
for o = 1, #recs, ${RECORD_SIZE} do
  local fam = string.sub(recs, o, o)
  local flags = string.byte(recs, o + 1)
  local ev = string.sub(recs, o + 2, o + 2)
  local numwant, now = struct.unpack('>I2I4', recs, o + 3)
  local K = setmetatable({[0] = prefix .. ':{' .. string.sub(recs, o + 9, o + 48) .. '}:'}, KEYNAMES)
  local pid = string.sub(recs, o + 49, o + 68)
  local alen = 6
  if fam == '6' then alen = 18 end
  local addr = string.sub(recs, o + 69, o + 68 + alen)
  one(out, K, now, now - peerTtl, pid, addr, fam, flags % 2 == 1, flags >= 2, ev, numwant, ttl)
end
return out
`;

/**
 * KEYS: a swarm's nine keys; ARGV: now, cutoff. Counts live peers only,
 * writes nothing: the stored counts when this second's purge has run, else
 * the sorted sets counted from the cutoff.
 */
export const SCRAPE_LUA = `
local m = redis.call('HGET', KEYS[1], 'm')
if not m then return {0, 0, 0} end
local pt, n4s, n4l, n6s, n6l, dl = struct.unpack('${META}', m)
local n = {0, n4s, n4l, n6s, n6l}
if pt ~= tonumber(ARGV[1]) then
  local c = '(' .. ARGV[2]
  for k = 2, 5 do
    if n[k] > 0 then n[k] = redis.call('ZCOUNT', KEYS[k], c, '+inf') end
  end
end
local s, l = n[2] + n[4], n[3] + n[5]
local d = 0
if s + l > 0 then d = dl end
return {s, l, d}
`;

/** KEYS: a swarm's nine keys; ARGV: cutoff. Deletes the swarm if no peer in it is live (1), else 0. */
export const DROP_DEAD_LUA = `
local c = '(' .. ARGV[1]
for k = 2, 5 do
  if redis.call('ZCOUNT', KEYS[k], c, '+inf') > 0 then return 0 end
end
redis.call('DEL', unpack(KEYS))
return 1
`;

/**
 * KEYS: a swarm's nine keys. Deletes the swarm whatever it holds and returns
 * {seeders' last announces, leechers' last announces} (for the totals).
 */
export const DROP_SWARM_LUA = `
local s, l = {}, {}
for k = 2, 5 do
  local r = redis.call('ZRANGE', KEYS[k], 0, -1, 'WITHSCORES')
  local into = l
  if k == 2 or k == 4 then into = s end
  for j = 2, #r, 2 do into[#into + 1] = tonumber(r[j]) end
end
redis.call('DEL', unpack(KEYS))
return {s, l}
`;

/**
 * KEYS: live, t, z. ARGV: nb, nb × (field, delta), then triples
 * (info_hash, score, peers): peers > 0 records the torrent's newest announce
 * (never lowered) and size; peers = 0 removes it unless a newer announce
 * than `score` was recorded meanwhile.
 */
export const FLUSH_LUA = `
local nb = tonumber(ARGV[1])
for j = 2, 2 * nb, 2 do redis.call('HINCRBY', KEYS[1], ARGV[j], ARGV[j + 1]) end
for j = 2 * nb + 2, #ARGV, 3 do
  local ih, score, peers = ARGV[j], tonumber(ARGV[j + 1]), tonumber(ARGV[j + 2])
  if peers > 0 then
    redis.call('ZADD', KEYS[2], 'GT', score, ih)
    redis.call('ZADD', KEYS[3], peers, ih)
  else
    local sc = redis.call('ZSCORE', KEYS[2], ih)
    if (not sc) or tonumber(sc) <= score then
      redis.call('ZREM', KEYS[2], ih)
      redis.call('ZREM', KEYS[3], ih)
    end
  end
end
return 1
`;

/** KEYS: live, t. ARGV: cutoff. Returns {torrents, seeders, leechers} counting only what is live. */
export const TOTALS_LUA = `
local cutoff = tonumber(ARGV[1])
local h = redis.call('HGETALL', KEYS[1])
local s, l = 0, 0
for j = 1, #h, 2 do
  local f = h[j]
  if tonumber(string.sub(f, 2)) > cutoff then
    if string.sub(f, 1, 1) == 's' then s = s + tonumber(h[j + 1]) else l = l + tonumber(h[j + 1]) end
  end
end
return {redis.call('ZCOUNT', KEYS[2], '(' .. cutoff, '+inf'), s, l}
`;

/** KEYS: live. ARGV: cutoff. Drops the per-second peer counts that can no longer be live. */
export const PRUNE_LIVE_LUA = `
local cutoff = tonumber(ARGV[1])
local gone = {}
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  if tonumber(string.sub(f, 2)) <= cutoff then gone[#gone + 1] = f end
end
for j = 1, #gone, 1000 do redis.call('HDEL', KEYS[1], unpack(gone, j, math.min(j + 999, #gone))) end
return #gone
`;

/**
 * KEYS: t. ARGV: info_hash, now, cutoff, maxTorrents. A new torrent takes a
 * place if fewer than maxTorrents are live (1), else it is refused (0).
 */
export const ADMIT_LUA = `
local sc = redis.call('ZSCORE', KEYS[1], ARGV[1])
if sc and tonumber(sc) > tonumber(ARGV[3]) then return 1 end
if redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[3], '+inf') >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[1])
return 1
`;
