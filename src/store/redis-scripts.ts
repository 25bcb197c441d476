/**
 * The Redis store's Lua scripts. Each one runs atomically inside Redis, so
 * counts stay exact however many trackers write to one swarm at once.
 *
 * A swarm's keys all carry its hash tag `{<hex info_hash>}` (one Cluster
 * slot), in this order:
 *   1 `…:i`  hash: identity field `<family><peer id>` → `<s|l><last, 4 bytes><compact addr>`;
 *            `n4s n4l n6s n6l` (peers in each sorted set), `dl` (downloaded),
 *            `cur` (the rotating position), `pt` (the second of the last purge)
 *   2 `…:4s` 3 `…:4l` 4 `…:6s` 5 `…:6l`  sorted sets of seeders / leechers
 *            by family: member `<peer id><compact addr>`, score last announce
 * The tracker-wide keys share the tag `{wk}` (another slot; never touched by
 * a swarm script, so the store works on Cluster): `live` (peers by role and
 * second of last announce), `t` (torrent → newest announce), `z` (torrent →
 * peers, for the top swarms).
 */

/**
 * KEYS: a swarm's five keys. ARGV: now, cutoff (a peer last seen at or
 * before it has expired), peer id, compact address, family (4|6), seeder
 * (1|0), event (s c x n), numwant, key TTL, admit check (1|0).
 * Seconds come from the tracker's clock: trackers sharing a Redis keep
 * their clocks in step (NTP).
 *
 * Expired peers are purged at the first announce of each second (the cutoff
 * moves only then), so most announces make four calls: HMGET, ZADD, HSET
 * and one or two ZRANGEs. Returns {status (0; 2 emptied; -1 needs a place
 * under maxTorrents), complete, incomplete, downloaded, wanted, IPv6
 * members, IPv4 members, previous role (0 none, 1 seeder, 2 leecher),
 * previous last announce, new role}: up to wanted + 1 raw members from the
 * rotating position; the caller leaves the requester out.
 */
export const ANNOUNCE_LUA = `
local now = tonumber(ARGV[1])
local cutoff = tonumber(ARGV[2])
local pid, addr, fam, ev = ARGV[3], ARGV[4], ARGV[5], ARGV[7]
local I = KEYS[1]
local idf = fam .. pid
local h = redis.call('HMGET', I, 'pt', 'n4s', 'n4l', 'n6s', 'n6l', 'dl', 'cur', idf)
local n = {0, tonumber(h[2]) or 0, tonumber(h[3]) or 0, tonumber(h[4]) or 0, tonumber(h[5]) or 0}
local dl = tonumber(h[6]) or 0
local cur = tonumber(h[7]) or 0
local prev = h[8]
local ttl = tonumber(ARGV[9])
local refresh = false
if not h[1] then
  -- No swarm, or its hash expired: a sorted set left of it holds only expired peers.
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5])
  n = {0, 0, 0, 0, 0}
  prev = false
  refresh = true
elseif tonumber(h[1]) ~= now then
  refresh = true
  local FAM = {false, '4', '4', '6', '6'}
  for k = 2, 5 do
    if n[k] > 0 then
      local gone = redis.call('ZRANGEBYSCORE', KEYS[k], '-inf', cutoff)
      if #gone > 0 then
        local fields = {}
        for j = 1, #gone do fields[j] = FAM[k] .. string.sub(gone[j], 1, 20) end
        for j = 1, #fields, 1000 do redis.call('HDEL', I, unpack(fields, j, math.min(j + 999, #fields))) end
        redis.call('ZREMRANGEBYSCORE', KEYS[k], '-inf', cutoff)
        n[k] = n[k] - #gone
      end
    end
  end
end
local live = n[2] + n[3] + n[4] + n[5]
if ARGV[10] == '1' and live == 0 and ev ~= 'x' then return {-1} end
local sk, lk = 2, 3
if fam == '6' then sk, lk = 4, 5 end
local member = pid .. addr
local prevRole, prevLast, oldK, oldMember = 0, -1, 0, false
if prev then
  prevLast = struct.unpack('>I4', prev, 2)
  -- Purged above if it had expired.
  if prevLast > cutoff then
    if string.sub(prev, 1, 1) == 's' then oldK, prevRole = sk, 1 else oldK, prevRole = lk, 2 end
    oldMember = pid .. string.sub(prev, 6)
  else
    prevLast = -1
  end
end
local newRole, newK = 0, 0
if ev == 'x' then
  if oldK > 0 then
    redis.call('ZREM', KEYS[oldK], oldMember)
    redis.call('HDEL', I, idf)
    n[oldK] = n[oldK] - 1
  end
else
  newK, newRole = lk, 2
  if ARGV[6] == '1' then newK, newRole = sk, 1 end
  if oldK > 0 and (oldK ~= newK or oldMember ~= member) then
    redis.call('ZREM', KEYS[oldK], oldMember)
    n[oldK] = n[oldK] - 1
    oldK = 0
  end
  if oldK == 0 then
    n[newK] = n[newK] + 1
    if n[newK] == 1 then refresh = true end
  end
  redis.call('ZADD', KEYS[newK], now, member)
  if ev == 'c' and prevRole ~= 1 then dl = dl + 1 end
end
local complete = n[2] + n[4]
local incomplete = n[3] + n[5]
local status = 0
local blob6, blob4 = {}, {}
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
  want = math.min(tonumber(ARGV[8]), total - self)
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
          local ms = table.concat(redis.call('ZRANGE', KEYS[k], a, b))
          if k >= 4 then blob6[#blob6 + 1] = ms else blob4[#blob4 + 1] = ms end
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
  redis.call('DEL', I)
  status = 2
else
  if newRole > 0 then
    local role = 'l'
    if newRole == 1 then role = 's' end
    redis.call('HSET', I, idf, role .. struct.pack('>I4', now) .. addr, 'pt', now, 'n4s', n[2], 'n4l', n[3], 'n6s', n[4], 'n6l', n[5], 'dl', dl, 'cur', cur)
  else
    redis.call('HSET', I, 'pt', now, 'n4s', n[2], 'n4l', n[3], 'n6s', n[4], 'n6l', n[5])
  end
  -- Keys outlive their newest peer: refreshed at the first announce of each second, and when created.
  if refresh then
    redis.call('EXPIRE', I, ttl)
    for k = 2, 5 do if n[k] > 0 then redis.call('EXPIRE', KEYS[k], ttl) end end
  end
end
return {status, complete, incomplete, dl, want, table.concat(blob6), table.concat(blob4), prevRole, prevLast, newRole}
`;

/**
 * KEYS: a swarm's five keys; ARGV: now, cutoff. Counts live peers only,
 * writes nothing: the stored counts when this second's purge has run, else
 * the sorted sets counted from the cutoff.
 */
export const SCRAPE_LUA = `
local h = redis.call('HMGET', KEYS[1], 'pt', 'n4s', 'n4l', 'n6s', 'n6l', 'dl')
if not h[1] then return {0, 0, 0} end
local n = {0, tonumber(h[2]) or 0, tonumber(h[3]) or 0, tonumber(h[4]) or 0, tonumber(h[5]) or 0}
if tonumber(h[1]) ~= tonumber(ARGV[1]) then
  local c = '(' .. ARGV[2]
  for k = 2, 5 do
    if n[k] > 0 then n[k] = redis.call('ZCOUNT', KEYS[k], c, '+inf') end
  end
end
local s, l = n[2] + n[4], n[3] + n[5]
local d = 0
if s + l > 0 then d = tonumber(h[6]) or 0 end
return {s, l, d}
`;

/** KEYS: a swarm's five keys; ARGV: cutoff. Deletes the swarm if no peer in it is live (1), else 0. */
export const DROP_DEAD_LUA = `
local c = '(' .. ARGV[1]
for k = 2, 5 do
  if redis.call('ZCOUNT', KEYS[k], c, '+inf') > 0 then return 0 end
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
return 1
`;

/**
 * KEYS: a swarm's five keys. Deletes the swarm whatever it holds and returns
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
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
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
