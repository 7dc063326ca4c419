//! The Lua scripts that make every record change atomic on the broker. Each fenced script
//! checks `lease_token` (and the state) before writing, so a stale worker's write is a no-op
//! that reports `0`. Mutable fields are separate hash fields: a cancel (`cancel_requested`)
//! and a finish (`state`, `artifacts`, …) never overwrite each other.
//!
//! Common arguments: `KEYS[1]` the job hash, `KEYS[2]` the lease index (sorted set scored by
//! expiry, member = job id), `KEYS[3]` (where a script can end a job) the notification stream,
//! `ARGV[1]` now in ms.
//!
//! Every change that ends a job appends a `finished` event to the notification stream in the
//! same script, so a job's end and its mail can never be separated by a crash.

/// Lua: append a `finished` event for job `id` at `attempt` to the stream `KEYS[3]`.
const FINISHED_EVENT: &str = r#"
local function finished_event(id, attempt, now)
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', 100000, '*',
    'job_id', id, 'kind', 'finished', 'attempt', tostring(attempt), 'at', tostring(now))
end
"#;

fn with_events(body: &str) -> Script {
    Script::new(&format!("{FINISHED_EVENT}{body}"))
}

use redis::Script;

/// Take a job for a worker. `ARGV`: now, expires, token, worker, host, max_attempts, id.
/// Returns `ok`, `held` (a live lease exists), `failed` (expired past the limit), `final:<state>`
/// or `gone`. A stage-only retry (`staging`, no lease) is taken by a worker of the host that
/// keeps its artifacts only, and stays `staging`.
pub(super) fn claim() -> Script {
    with_events(
        r#"
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return 'gone' end
local now = tonumber(ARGV[1])
if st == 'staging' and redis.call('HGET', KEYS[1], 'stage_only') == '1'
   and not redis.call('HGET', KEYS[1], 'lease_token') then
  if redis.call('HGET', KEYS[1], 'artifacts_host') ~= ARGV[5] then return 'other-host' end
  redis.call('HSET', KEYS[1], 'lease_token', ARGV[3], 'lease_expires', ARGV[2],
    'worker', ARGV[4], 'worker_host', ARGV[5], 'started_at', ARGV[1], 'updated_at', ARGV[1])
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[7])
  return 'ok'
end
if st == 'running' or st == 'staging' then
  local exp = tonumber(redis.call('HGET', KEYS[1], 'lease_expires') or '0')
  if exp >= now then return 'held' end
  local att = tonumber(redis.call('HGET', KEYS[1], 'attempt'))
  if att >= tonumber(ARGV[6]) then
    redis.call('HSET', KEYS[1], 'state', 'failed', 'finished_at', ARGV[1], 'updated_at', ARGV[1],
      'error', 'the worker running attempt ' .. att .. ' stopped responding (lease expired); gave up after ' .. att .. ' attempts')
    redis.call('HDEL', KEYS[1], 'lease_token', 'lease_expires')
    redis.call('ZREM', KEYS[2], ARGV[7])
    finished_event(ARGV[7], att, ARGV[1])
    return 'failed'
  end
  redis.call('HINCRBY', KEYS[1], 'attempt', 1)
  redis.call('HSET', KEYS[1], 'stage_only', 0)
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
    with_events(
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
  finished_event(ARGV[3], att, ARGV[1])
  return 'failed'
end
redis.call('HSET', KEYS[1], 'state', 'queued', 'attempt', att + 1, 'updated_at', ARGV[1],
  'stage_only', 0)
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
/// JSON, error (empty = none), keep (`1`: the artifacts stay on this worker's host for a
/// stage-only retry). `staging` keeps the lease; `queued` (release) and final states drop it;
/// a final state appends a `finished` event. Returns 1, or 0 when the lease is not the caller's.
pub(super) fn fenced_set() -> Script {
    with_events(
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
redis.call('HSET', KEYS[1], 'artifacts', ARGV[5], 'finished_at', ARGV[1], 'stage_only', 0)
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[6]) else redis.call('HDEL', KEYS[1], 'error') end
if ARGV[7] == '1' then
  redis.call('HSET', KEYS[1], 'artifacts_host', redis.call('HGET', KEYS[1], 'worker_host') or '')
else
  redis.call('HDEL', KEYS[1], 'artifacts_host')
end
finished_event(ARGV[3], redis.call('HGET', KEYS[1], 'attempt'), ARGV[1])
return 1
"#,
    )
}

/// Cancel. `KEYS[2]` is unused; `ARGV`: now, id. Returns `did:canceled`, `did:requested`,
/// `gone` or the final state.
pub(super) fn cancel() -> Script {
    with_events(
        r#"
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return 'gone' end
if st == 'queued' or (st == 'staging' and not redis.call('HGET', KEYS[1], 'lease_token')) then
  redis.call('HSET', KEYS[1], 'state', 'canceled', 'error', 'canceled before it started',
    'finished_at', ARGV[1], 'updated_at', ARGV[1], 'stage_only', 0)
  finished_event(ARGV[2], redis.call('HGET', KEYS[1], 'attempt'), ARGV[1])
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
  'updated_at', ARGV[1], 'stage_only', 0)
redis.call('HDEL', KEYS[1], 'error', 'started_at', 'finished_at', 'worker', 'worker_host',
  'artifacts_host')
return 'ok'
"#,
    )
}

/// `fbs retry --stage-only`: a failed job whose artifacts a host keeps goes back to `staging`
/// (no lease, `stage_only`) as a new attempt. `ARGV`: now. Returns the host, or `!gone`,
/// `!<state>` (not failed) or `!rebuild` (nothing kept to stage).
pub(super) fn retry_stage() -> Script {
    Script::new(
        r#"
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return '!gone' end
if st ~= 'failed' then return '!' .. st end
local host = redis.call('HGET', KEYS[1], 'artifacts_host')
if not host or host == '' then return '!rebuild' end
redis.call('HINCRBY', KEYS[1], 'attempt', 1)
redis.call('HSET', KEYS[1], 'state', 'staging', 'stage_only', 1, 'cancel_requested', 0,
  'updated_at', ARGV[1])
redis.call('HDEL', KEYS[1], 'error', 'started_at', 'finished_at', 'lease_token', 'lease_expires')
return host
"#,
    )
}
