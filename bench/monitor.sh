#!/usr/bin/env bash
# Live-log fan-out of `fbs monitor`: FOLLOWERS concurrent followers (plain chunked text) of one
# job's log while a writer appends RATE lines/s to its Redis stream for SECONDS; every follower
# must get every line in order. Prints write→receipt latency (p50/p99) and the monitor's peak
# RSS. Everything runs on 127.0.0.1: a private redis-server, a release `fbs monitor`, the load.
#
#   bench/monitor.sh [FOLLOWERS=200] [RATE=20000] [SECONDS=30]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FOLLOWERS=${1:-200} RATE=${2:-20000} SECS=${3:-30}
T=${CARGO_TARGET_DIR:-$ROOT/target}
W=$(mktemp -d); echo "work dir: $W" >&2
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
cargo build --release -q --manifest-path "$ROOT/Cargo.toml" --bin fbs -p fbs --example follow_bench -p fbs-monitor

RP=$(port)
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no --dir "$W" --logfile "$W/redis.log" &
pids+=($!)
for _ in $(seq 1 50); do redis-cli -p "$RP" ping >/dev/null 2>&1 && break; sleep 0.1; done
MP=$(port)
FBS_REDIS_PREFIX=bench: FBS_CONFIG= "$T/release/fbs" monitor --listen "127.0.0.1:$MP" \
  --broker "redis://127.0.0.1:$RP/0" 2>"$W/monitor.log" &
MON=$!
pids+=($MON)
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$MP/healthz" >/dev/null && break; sleep 0.1; done

# Sample the monitor's RSS while the load runs (VmHWM is the kernel's own peak).
( while kill -0 "$MON" 2>/dev/null; do grep VmRSS "/proc/$MON/status" >> "$W/rss" 2>/dev/null; sleep 0.5; done ) &
pids+=($!)
echo "monitor fan-out: $FOLLOWERS followers, $RATE lines/s for $SECS s"
"$T/release/examples/follow_bench" "http://127.0.0.1:$MP" "redis://127.0.0.1:$RP/0" bench: \
  "$FOLLOWERS" "$RATE" "$SECS"
echo "monitor peak RSS:     $(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' "/proc/$MON/status")"
echo "monitor CPU time:     $(awk '{printf "%.1f s", ($14+$15)/100}' "/proc/$MON/stat")"
