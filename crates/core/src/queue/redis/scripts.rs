//! The Lua scripts that make every record change atomic on the broker. Each fenced script
//! checks `lease_token` (and the state) before writing, so a stale worker's write is a no-op
//! that reports `0`. Mutable fields are separate hash fields: a cancel (`cancel_requested`)
//! and a finish (`state`, `artifacts`, …) never overwrite each other.
//!
//! Common arguments: `KEYS[1]` the job hash, `KEYS[2]` the lease index (sorted set scored by
//! expiry, member = job id), `ARGV[1]` now in ms.

use redis::Script;

/// Take a job for a worker. `ARGV`: now, expires, token, worker, host, max_attempts, id.
/// Returns `ok`, `held` (a live lease exists), `failed` (expired past the limit), `final:<state>`
/// or `gone`.
pub(super) fn claim() -> Script {
    Script::new(
        r#"
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return 'gone' end
local now = tonumber(ARGV[1])
if st == 'running' or st == 'staging' then
  local exp = tonumber(redis.call('HGET', KEYS[1], 'lease_expires') or '0')
  if exp >= now then return 'held' end
  local att = tonumber(redis.call('HGET', KEYS[1], 'attempt'))
  if att >= tonumber(ARGV[6]) then
    redis.call('HSET', KEYS[1], 'state', 'failed', 'finished_at', ARGV[1], 'updated_at', ARGV[1],
      'error', 'the worker running attempt ' .. att .. ' stopped responding (lease expired); gave up after ' .. att .. ' attempts')
    redis.call('HDEL', KEYS[1], 'lease_token', 'lease_expires')
    redis.call('ZREM', KEYS[2], ARGV[7])
    return 'failed'
  end
  redis.call('HINCRBY', KEYS[1], 'attempt', 1)
elseif st ~= 'queued' then
  return 'final:' .. st
end
redis.call('HSET', KEYS[1], 'state', 'running', 'lease_token', ARGV[3], 'lease_expires', ARGV[2],
  'worker', ARGV[4], 'worker_host', ARGV[5], 'started_at', ARGV[1], 'updated_at', ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[7])
return 'ok'
"#,
    )
}

/// Recover one expired lease. `ARGV`: now, max_attempts, id. Returns `requeued`, `failed`,
/// `live` (renewed meanwhile) or `none` (not leased any more).
pub(super) fn recover() -> Script {
    Script::new(
        r#"
local st = redis.call('HGET', KEYS[1], 'state')
if st ~= 'running' and st ~= 'staging' then redis.call('ZREM', KEYS[2], ARGV[3]); return 'none' end
local exp = tonumber(redis.call('HGET', KEYS[1], 'lease_expires') or '0')
if exp >= tonumber(ARGV[1]) then redis.call('ZADD', KEYS[2], exp, ARGV[3]); return 'live' end
local att = tonumber(redis.call('HGET', KEYS[1], 'attempt'))
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('HDEL', KEYS[1], 'lease_token', 'lease_expires')
if att >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'state', 'failed', 'finished_at', ARGV[1], 'updated_at', ARGV[1],
    'error', 'the worker running attempt ' .. att .. ' stopped responding (lease expired); gave up after ' .. att .. ' attempts')
  return 'failed'
end
redis.call('HSET', KEYS[1], 'state', 'queued', 'attempt', att + 1, 'updated_at', ARGV[1])
redis.call('HDEL', KEYS[1], 'started_at')
return 'requeued'
"#,
    )
}

/// Renew a lease. `ARGV`: now, token, expires, id. Returns `{1, cancel_requested}` or `{0, 0}`.
pub(super) fn heartbeat() -> Script {
    Script::new(
        r#"
local st = redis.call('HGET', KEYS[1], 'state')
if (st ~= 'running' and st ~= 'staging') or redis.call('HGET', KEYS[1], 'lease_token') ~= ARGV[2] then
  return {0, 0}
end
redis.call('HSET', KEYS[1], 'lease_expires', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
return {1, tonumber(redis.call('HGET', KEYS[1], 'cancel_requested') or '0')}
"#,
    )
}

/// A fenced state change by the lease holder. `ARGV`: now, token, id, new state, artifacts
/// JSON, error (empty = none). `staging` keeps the lease; `queued` (release) and final states
/// drop it. Returns 1, or 0 when the lease is not the caller's.
pub(super) fn fenced_set() -> Script {
    Script::new(
        r#"
local st = redis.call('HGET', KEYS[1], 'state')
if (st ~= 'running' and st ~= 'staging') or redis.call('HGET', KEYS[1], 'lease_token') ~= ARGV[2] then
  return 0
end
local new = ARGV[4]
redis.call('HSET', KEYS[1], 'state', new, 'updated_at', ARGV[1])
if new == 'staging' then return 1 end
redis.call('HDEL', KEYS[1], 'lease_token', 'lease_expires')
redis.call('ZREM', KEYS[2], ARGV[3])
if new == 'queued' then
  redis.call('HDEL', KEYS[1], 'started_at')
  return 1
end
redis.call('HSET', KEYS[1], 'artifacts', ARGV[5], 'finished_at', ARGV[1])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[6]) else redis.call('HDEL', KEYS[1], 'error') end
return 1
"#,
    )
}

/// Cancel. `ARGV`: now. Returns `did:canceled`, `did:requested`, `gone` or the final state.
pub(super) fn cancel() -> Script {
    Script::new(
        r#"
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return 'gone' end
if st == 'queued' then
  redis.call('HSET', KEYS[1], 'state', 'canceled', 'error', 'canceled before it started',
    'finished_at', ARGV[1], 'updated_at', ARGV[1])
  return 'did:canceled'
end
if st == 'running' or st == 'staging' then
  redis.call('HSET', KEYS[1], 'cancel_requested', 1, 'updated_at', ARGV[1])
  return 'did:requested'
end
return st
"#,
    )
}

/// Queue a failed or canceled job again. `ARGV`: now. Returns `ok`, `gone` or the state.
pub(super) fn retry() -> Script {
    Script::new(
        r#"
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return 'gone' end
if st ~= 'failed' and st ~= 'canceled' then return st end
redis.call('HINCRBY', KEYS[1], 'attempt', 1)
redis.call('HSET', KEYS[1], 'state', 'queued', 'artifacts', '[]', 'cancel_requested', 0,
  'updated_at', ARGV[1])
redis.call('HDEL', KEYS[1], 'error', 'started_at', 'finished_at', 'worker', 'worker_host')
return 'ok'
"#,
    )
}
