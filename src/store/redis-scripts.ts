/**
 * The Redis store's Lua scripts. Each one runs atomically inside Redis, so
 * counts stay exact however many trackers write to one swarm at once.
 *
 * A swarm's keys all carry its hash tag `{<hex info_hash>}` (one Cluster
 * slot), in this order:
 *   1 `…:i`  hash: identity field `<family><peer id>` → `<s|l><compact addr>`,
 *            plus `dl` (downloaded) and `cur` (the rotating position)
 *   2 `…:4s` 3 `…:4l` 4 `…:6s` 5 `…:6l`  sorted sets of seeders / leechers
 *            by family: member `<peer id><compact addr>`, score last announce
 * The tracker-wide keys share the tag `{wk}` (another slot; never touched by
 * a swarm script, so the store works on Cluster): `live` (peers by role and
 * second of last announce), `t` (torrent → newest announce), `z` (torrent →
 * peers, for the top swarms).
 */

/** Seconds (tracker clock) are passed in: every tracker of one Redis shares its clock through NTP. */
export const ANNOUNCE_LUA = `
local now = tonumber(ARGV[1])
local cutoff = tonumber(ARGV[2])
local pid, addr, fam, ev = ARGV[3], ARGV[4], ARGV[5], ARGV[7]
local I = KEYS[1]
local FAM = {false, '4', '4', '6', '6'}
local n = {0, 0, 0, 0, 0}
local live = 0
-- Expired peers leave first: they are never counted or handed out.
for k = 2, 5 do
  local gone = redis.call('ZRANGEBYSCORE', KEYS[k], '-inf', cutoff)
  if #gone > 0 then
    for j = 1, #gone do redis.call('HDEL', I, FAM[k] .. string.sub(gone[j], 1, 20)) end
    redis.call('ZREMRANGEBYSCORE', KEYS[k], '-inf', cutoff)
  end
  n[k] = redis.call('ZCARD', KEYS[k])
  live = live + n[k]
end
if live == 0 then redis.call('DEL', I) end
if ARGV[11] == '1' and live == 0 and ev ~= 'x' then return {-1} end
local sk, lk = 2, 3
if fam == '6' then sk, lk = 4, 5 end
local idf = fam .. pid
local member = pid .. addr
local prevRole, prevLast, oldK, oldMember = 0, -1, 0, false
if live > 0 then
  local prev = redis.call('HGET', I, idf)
  if prev then
    if string.sub(prev, 1, 1) == 's' then oldK = sk else oldK = lk end
    oldMember = pid .. string.sub(prev, 2)
    local sc = redis.call('ZSCORE', KEYS[oldK], oldMember)
    if sc then
      prevLast = tonumber(sc)
      if oldK == sk then prevRole = 1 else prevRole = 2 end
    else
      oldK = 0
    end
  end
end
local newRole = 0
if ev == 'x' then
  if oldK > 0 then
    redis.call('ZREM', KEYS[oldK], oldMember)
    redis.call('HDEL', I, idf)
    n[oldK] = n[oldK] - 1
  end
else
  local seeder = ARGV[6] == '1'
  local newK = lk
  newRole = 2
  if seeder then newK, newRole = sk, 1 end
  if oldK > 0 and (oldK ~= newK or oldMember ~= member) then
    redis.call('ZREM', KEYS[oldK], oldMember)
    n[oldK] = n[oldK] - 1
    oldK = 0
  end
  if oldK == 0 then n[newK] = n[newK] + 1 end
  redis.call('ZADD', KEYS[newK], now, member)
  if seeder then redis.call('HSET', I, idf, 's' .. addr) else redis.call('HSET', I, idf, 'l' .. addr) end
  if ev == 'c' and prevRole ~= 1 then redis.call('HINCRBY', I, 'dl', 1) end
  local ttl = tonumber(ARGV[10])
  redis.call('EXPIRE', I, ttl)
  redis.call('EXPIRE', KEYS[newK], ttl)
end
local complete = n[2] + n[4]
local incomplete = n[3] + n[5]
local dl = tonumber(redis.call('HGET', I, 'dl') or '0')
local status = 0
if complete + incomplete == 0 then
  redis.call('DEL', I)
  status = 2
end
local addrs, ids, got = {}, {}, 0
if newRole > 0 then
  -- A seeder is handed only leechers; an IPv6 client both families (IPv4 mapped).
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
  local want = math.min(tonumber(ARGV[8]), total - self)
  if want > 0 then
    local cur = redis.call('HINCRBY', I, 'cur', want) - want
    if cur > 1e15 then redis.call('HSET', I, 'cur', 0) end
    local pos = cur % total
    local left = math.min(want + self, total)
    local withIds = ARGV[9] == '1'
    local mapped = fam == '6'
    while left > 0 and got < want do
      local o = 0
      for _, k in ipairs(segs) do
        if pos < o + n[k] then
          local a = pos - o
          local b = math.min(n[k] - 1, a + left - 1)
          local ms = redis.call('ZRANGE', KEYS[k], a, b)
          for j = 1, #ms do
            local m = ms[j]
            if m ~= member and got < want then
              got = got + 1
              if mapped and k < 4 then addrs[got] = '\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\255\\255' .. string.sub(m, 21) else addrs[got] = string.sub(m, 21) end
              if withIds then ids[got] = string.sub(m, 1, 20) end
            end
          end
          left = left - (b - a + 1)
          pos = (pos + b - a + 1) % total
          break
        end
        o = o + n[k]
      end
    end
  end
end
return {status, complete, incomplete, dl, got, table.concat(addrs), table.concat(ids), prevRole, prevLast, newRole}
`;

/** KEYS: a swarm's five keys; ARGV: cutoff. Counts live peers only, writes nothing. */
export const SCRAPE_LUA = `
local c = '(' .. ARGV[1]
local s = redis.call('ZCOUNT', KEYS[2], c, '+inf') + redis.call('ZCOUNT', KEYS[4], c, '+inf')
local l = redis.call('ZCOUNT', KEYS[3], c, '+inf') + redis.call('ZCOUNT', KEYS[5], c, '+inf')
local d = 0
if s + l > 0 then d = tonumber(redis.call('HGET', KEYS[1], 'dl') or '0') end
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
