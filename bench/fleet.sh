#!/usr/bin/env bash
# Fleet throughput and latency: N no-op jobs submitted and consumed through Redis by ONE worker
# process with concurrency C, for fbs and for Celery 5 (Redis broker, prefork pool, -c C), in
# the same run against the same freshly started redis-server on a free loopback port. Prints
# jobs/s (first submit → last completion), submit→start latency p50/p99, the ratio, where the
# CPU went (worker and Redis CPU per job, Redis commands per job), the machine and versions.
# Not run in CI.
#
#   bash bench/fleet.sh                 # N=10000 C=4
#   N=1000 bash bench/fleet.sh          # a quick run
#
# Settings (environment):
#   N=10000          jobs per system
#   C=4              the worker's concurrency (fbs --concurrency, Celery -c)
#   RATE=0           submit at this many jobs/s (both systems) instead of as fast as each
#                    client can: compares latency at the same offered load
#   FBS_BUILDER=noop the fbs builder: `noop` (FBS_BENCH_NOOP=1, builds nothing) or `script`
#                    (the script builder running `: > $OUT/test.iso`, one sh per job)
#   SYSTEMS="fbs celery"  which systems to run, in that order
#   TIMEOUT=300      seconds each system may take to finish its jobs
#   SKIP_BUILD=1     use the release binaries already in $CARGO_TARGET_DIR (default ./target)
#   FBS_BIN=PATH     the fbs binary to measure (default: the release build), for before/after
#   FLEET_BENCH_DIR  where the Celery venv and the scratch runs live (default bench/.fleet)
#   WORK_DIR         where fbs's job directories and staging target go (default: the scratch
#                    run there); /dev/shm takes the disk (job directories, fsync) out
#
# fbs side: `fbs worker` (release build) with the production lease timers, log level and
# pipeline (job directory, log file, log stream, staging with manifest.json, CHECKSUM and
# build.log); the submitter is crates/worker/examples/fleet_bench.rs (JobRecord::new +
# RedisStore::submit, what `fbs submit` does after reading the spec). Latency is each record's
# started_at - created_at. Celery side: bench/celery_bench.py; Celery's defaults (prefetch 4,
# acks early), results ignored, mingle/gossip/heartbeat off, log level warning; latency is
# task start - time.time() taken just before `task.delay`. Redis runs without persistence
# (--save '' --appendonly no); fbs uses database 0, Celery database 1.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${N:-10000}
C=${C:-4}
FBS_BUILDER=${FBS_BUILDER:-noop}
SYSTEMS=${SYSTEMS:-fbs celery}
RATE=${RATE:-0}
TIMEOUT=${TIMEOUT:-300}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BENCH=${FLEET_BENCH_DIR:-$ROOT/bench/.fleet}
FBS=${FBS_BIN:-$TARGET/release/fbs}
SUBMIT=$TARGET/release/examples/fleet_bench
VENV=$BENCH/venv
QUEUE=x86_64:bench

log() { printf 'fleet: %s\n' "$*" >&2; }

case $FBS_BUILDER in
  noop | script) ;;
  *) log "FBS_BUILDER must be noop or script"; exit 2 ;;
esac

mkdir -p "$BENCH"
RUN=$(mktemp -d "$BENCH/run.XXXXXX")
if [ -n "${WORK_DIR:-}" ]; then
  mkdir -p "$WORK_DIR"
  WORK=$(mktemp -d "$WORK_DIR/fbs-fleet.XXXXXX")
else
  WORK=$RUN/work
fi
PIDS=()
REDIS_PID=
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ -n "$REDIS_PID" ] && [ -d "/proc/$REDIS_PID" ]; then
    redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || kill "$REDIS_PID" 2>/dev/null || true
  fi
  rm -rf "$RUN" "$WORK"
}
trap cleanup EXIT

# --- build and install (idempotent) --------------------------------------------------------
if [[ " $SYSTEMS " == *" fbs "* ]]; then
  if [ "${SKIP_BUILD:-}" != 1 ]; then
    log "cargo build --release (fbs, fleet_bench)"
    (cd "$ROOT" && cargo build --release --locked -q -p fbs -p fbs-worker --bin fbs --example fleet_bench)
  fi
  for b in "$FBS" "$SUBMIT"; do
    [ -x "$b" ] || { log "missing $b (run without SKIP_BUILD=1)"; exit 3; }
  done
fi
command -v redis-server >/dev/null || { log "redis-server is not installed (apt-get install redis-server)"; exit 3; }
if [[ " $SYSTEMS " == *" celery "* ]] && ! "$VENV/bin/python" -c 'import celery, redis' 2>/dev/null; then
  log "creating the Celery venv in $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'celery[redis]>=5,<6'
fi

# --- Redis -----------------------------------------------------------------------------------
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --daemonize yes --pidfile "$RUN/redis.pid" \
  --dir "$RUN" --logfile "$RUN/redis.log" --save '' --appendonly no
for _ in $(seq 1 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$PORT" ping >/dev/null || { log "redis-server did not start ($RUN/redis.log)"; exit 3; }
REDIS_PID=$(cat "$RUN/redis.pid")

# CPU seconds (user + system) of PID and its live children.
cpu_of() {
  local total=0 p t
  for p in "$1" $(pgrep -P "$1" || true); do
    t=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)
    total=$((total + t))
  done
  python3 -c "print($total / $(getconf CLK_TCK))"
}
redis_cpu() { redis-cli -p "$PORT" info cpu | awk -F: '/^used_cpu_(sys|user):/ { s += $2 } END { print s }'; }
# "calls/job top-commands" from Redis's command statistics since the last reset.
redis_calls() {
  redis-cli -p "$PORT" info commandstats | tr -d '\r' | awk -F'[:=,]' -v n="$N" '
    /^cmdstat_/ { sub("cmdstat_", "", $1); c[$1] = $3; total += $3 }
    END {
      printf "%.1f", total / n
      m = 0
      for (k in c) { top[++m] = k }
      for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (c[top[j]] > c[top[i]]) { t = top[i]; top[i] = top[j]; top[j] = t }
      sep = " ("
      for (i = 1; i <= m && i <= 6; i++) { printf "%s%s %.1f", sep, top[i], c[top[i]] / n; sep = ", " }
      if (m > 0) printf ")"
    }'
}
field() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k { print $2 }'; }

# --- fbs ---------------------------------------------------------------------------------------
run_fbs() {
  local d=$RUN/fbs url="redis://127.0.0.1:$PORT/0" w r0 c0 line
  mkdir -p "$d" "$WORK/jobs" "$WORK/staging"
  printf '[broker]\ndefault = "%s"\n\n[worker]\nwork_dir = "%s"\n' "$url" "$WORK/jobs" > "$d/fbs.toml"
  redis-cli -p "$PORT" config resetstat >/dev/null
  if [ "$FBS_BUILDER" = noop ]; then
    FBS_BENCH_NOOP=1 "$FBS" worker --queue "$QUEUE" --concurrency "$C" --config "$d/fbs.toml" \
      > "$d/worker.log" 2>&1 &
  else
    FBS_TEST_BUILD_SCRIPT=': > "$OUT/test.iso"' "$FBS" worker --queue "$QUEUE" --concurrency "$C" \
      --config "$d/fbs.toml" > "$d/worker.log" 2>&1 &
  fi
  w=$!; PIDS+=("$w")
  # Ready once its queue consumer has registered with apalis (`<queue>:workers`).
  for _ in $(seq 1 100); do
    [ "$(redis-cli -p "$PORT" zcard "fbs:$QUEUE:workers")" -ge 1 ] && break
    [ -d "/proc/$w" ] || { log "fbs worker exited:"; cat "$d/worker.log" >&2; exit 1; }
    sleep 0.1
  done
  sleep 0.5
  redis-cli -p "$PORT" config resetstat >/dev/null
  r0=$(redis_cpu); c0=$(cpu_of "$w")
  line=$("$SUBMIT" run "$url" "$N" "$QUEUE" "$WORK/staging" "$TIMEOUT" "$RATE")
  FBS_LINE="$line cpu_worker_ms=$(python3 -c "print(f'{($(cpu_of "$w") - $c0) * 1000 / $N:.3f}')") \
cpu_redis_ms=$(python3 -c "print(f'{($(redis_cpu) - $r0) * 1000 / $N:.3f}')")"
  FBS_CALLS=$(redis_calls)
  FBS_PHASES=$("$SUBMIT" phases "$url" "$N" "$QUEUE")
  kill "$w"; wait "$w" 2>/dev/null || true
  if grep -qiE 'error|panic' "$d/worker.log"; then
    log "fbs worker log has errors:"; grep -iE 'error|panic' "$d/worker.log" | head -5 >&2
  fi
}

# --- Celery ------------------------------------------------------------------------------------
run_celery() {
  local d=$RUN/celery w r0 c0 line
  mkdir -p "$d"
  export CELERY_BENCH_OUT=$d CELERY_BENCH_BROKER="redis://127.0.0.1:$PORT/1"
  redis-cli -p "$PORT" config resetstat >/dev/null
  (cd "$ROOT/bench" && exec "$VENV/bin/celery" -A celery_bench worker -P prefork -c "$C" \
    --without-mingle --without-gossip --without-heartbeat -l warning -n "bench@%h" \
    > "$d/worker.log" 2>&1) &
  w=$!; PIDS+=("$w")
  for _ in $(seq 1 300); do
    [ -e "$d/ready" ] && break
    [ -d "/proc/$w" ] || { log "celery worker exited:"; cat "$d/worker.log" >&2; exit 1; }
    sleep 0.1
  done
  [ -e "$d/ready" ] || { log "celery worker not ready after 30 s"; exit 1; }
  sleep 0.5
  redis-cli -p "$PORT" config resetstat >/dev/null
  r0=$(redis_cpu); c0=$(cpu_of "$w")
  line=$(cd "$ROOT/bench" && "$VENV/bin/python" celery_bench.py "$N" "$TIMEOUT" "$RATE")
  CELERY_LINE="$line cpu_worker_ms=$(python3 -c "print(f'{($(cpu_of "$w") - $c0) * 1000 / $N:.3f}')") \
cpu_redis_ms=$(python3 -c "print(f'{($(redis_cpu) - $r0) * 1000 / $N:.3f}')")"
  CELERY_CALLS=$(redis_calls)
  kill "$w"; wait "$w" 2>/dev/null || true
}

# --- run and report ----------------------------------------------------------------------------
FBS_LINE= CELERY_LINE= FBS_CALLS= CELERY_CALLS= FBS_PHASES=
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for s in $SYSTEMS; do
  case $s in
    fbs) log "fbs: $N jobs, concurrency $C, builder $FBS_BUILDER"; run_fbs ;;
    celery) log "celery: $N tasks, prefork -c $C"; run_celery ;;
    *) log "unknown system $s"; exit 2 ;;
  esac
done

echo "== machine"
echo "nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); kernel $(uname -r)"
echo "load average before: $LOAD0; after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "redis $(redis-server --version | awk '{print $3}' | cut -d= -f2) (no persistence)"
if [ -n "$FBS_LINE" ]; then
  echo "$("$FBS" --version) (release); rustc $(rustc --version 2>/dev/null | awk '{print $2}')"
fi
if [ -n "$CELERY_LINE" ]; then
  echo "celery $("$VENV/bin/celery" --version | awk '{print $1}'); kombu $("$VENV/bin/python" -c 'import kombu; print(kombu.__version__)'); redis-py $("$VENV/bin/python" -c 'import redis; print(redis.__version__)'); $("$VENV/bin/python" --version)"
fi
PACE="as fast as each client can"
[ "$RATE" = 0 ] || PACE="at $RATE/s"
echo "== workload: N=$N no-op jobs, one worker process, concurrency $C, submitted $PACE"
if [ -n "$FBS_LINE" ]; then
  echo "fbs builder $FBS_BUILDER; job directories and staging on $(df --output=fstype "$WORK" | tail -1)"
fi
printf '%-7s %9s %9s %10s %10s %10s %10s %10s %12s %12s\n' system jobs/s total_s submit/s drain/s \
  p50_ms p99_ms max_ms cpu_wrk_ms/j cpu_redis_ms/j
for line in "$FBS_LINE" "$CELERY_LINE"; do
  [ -n "$line" ] || continue
  printf '%-7s %9s %9s %10s %10s %10s %10s %10s %12s %12s\n' "$(field system "$line")" \
    "$(field jobs_per_s "$line")" "$(field total_s "$line")" "$(field submit_per_s "$line")" \
    "$(field drain_per_s "$line")" "$(field p50_ms "$line")" "$(field p99_ms "$line")" \
    "$(field max_ms "$line")" "$(field cpu_worker_ms "$line")" "$(field cpu_redis_ms "$line")"
done
[ -z "$FBS_CALLS" ] || echo "fbs: Redis commands per job: $FBS_CALLS"
if [ -n "$FBS_PHASES" ]; then
  echo "fbs: time per job in the worker, mean ms over $(field jobs "$FBS_PHASES") jobs:" \
    "setup $(field setup_ms "$FBS_PHASES") (claim → log open), build $(field build_ms "$FBS_PHASES")," \
    "stage $(field stage_ms "$FBS_PHASES"), finish $(field finish_ms "$FBS_PHASES") (log flush, final state)"
fi
[ -z "$CELERY_CALLS" ] || echo "celery: Redis commands per job: $CELERY_CALLS"
if [ -n "$FBS_LINE" ] && [ "$(field failed "$FBS_LINE")" != 0 ]; then
  echo "fbs: $(field failed "$FBS_LINE") job(s) did not succeed"
fi
if [ -n "$FBS_LINE" ] && [ -n "$CELERY_LINE" ]; then
  python3 - "$(field jobs_per_s "$FBS_LINE")" "$(field jobs_per_s "$CELERY_LINE")" \
    "$(field p50_ms "$FBS_LINE")" "$(field p50_ms "$CELERY_LINE")" <<'EOF'
import sys
f, c, fp, cp = map(float, sys.argv[1:])
print(f"== fbs / celery throughput: {f / c:.2f}x (goal >= 5x: {'met' if f / c >= 5 else 'not met'})")
print(f"== submit->start p50: fbs {fp:.1f} ms, celery {cp:.1f} ms "
      f"(goal fbs <= celery: {'met' if fp <= cp else 'not met'})")
EOF
fi
