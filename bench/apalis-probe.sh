#!/usr/bin/env bash
# Measures the apalis-redis 1.0 behaviours the fleet's job store depends on, against a scratch
# redis-server on a free loopback port: idle pickup latency, recovery after `kill -9` (another
# worker; a restarted worker under a new name), a SIGSTOPped worker, and a Redis restart.
# Not run in CI. Needs redis-server and the example built:
#   cargo build -p fbs-core --features redis --example apalis_probe
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${PROBE_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/examples/apalis_probe}
D=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export PROBE_URL="redis://127.0.0.1:$PORT/"
start_redis() { redis-server --port "$PORT" --bind 127.0.0.1 --daemonize yes --pidfile "$D/r.pid" --dir "$D" --logfile "$D/r.log" --save '' --appendonly yes; sleep 0.3; }
stop_redis() { redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1; sleep 0.3; }
cleanup() { kill $(jobs -p) 2>/dev/null; stop_redis; rm -rf "$D"; }
trap cleanup EXIT
start_redis
field() { grep "^$1 $2 " "$3" | head -1 | awk '{print $3}'; }
since() { python3 -c "print(f'{$2-$1:.2f} s')"; }

echo "== 1. idle pickup latency (poll_with_interval 200ms)"
"$BIN" worker w-a > "$D/a.out" & A=$!; sleep 1.5
"$BIN" push j1 > "$D/p1.out"; sleep 1.5
echo "push→start: $(since "$(field push j1 "$D/p1.out")" "$(field start j1 "$D/a.out")")"
kill $A; wait $A 2>/dev/null

echo "== 2. kill -9 mid-job, another live worker on the queue (heartbeat 1s x 2)"
PROBE_SLEEP_MS=30000 "$BIN" worker w-b > "$D/b.out" & B=$!; sleep 1.5
"$BIN" push j2 >/dev/null; sleep 1
"$BIN" worker w-c > "$D/c.out" & C=$!; sleep 1
KILL=$(date +%s.%N); kill -9 $B
for _ in $(seq 1 100); do grep -q "^start j2" "$D/c.out" && break; sleep 0.1; done
echo "kill→redo by another worker: $(since "$KILL" "$(field start j2 "$D/c.out")")"
kill $C; wait $C 2>/dev/null

echo "== 3. kill -9 mid-job, single worker restarted under a new name"
sleep 3
PROBE_SLEEP_MS=30000 "$BIN" worker w-d > "$D/d.out" & W=$!; sleep 1.5
"$BIN" push j3 >/dev/null; sleep 1
KILL=$(date +%s.%N); kill -9 $W
"$BIN" worker w-e > "$D/e.out" & E=$!
for _ in $(seq 1 100); do grep -q "^start j3" "$D/e.out" && break; sleep 0.1; done
echo "kill→redo by the restarted worker: $(since "$KILL" "$(field start j3 "$D/e.out")")"
kill $E; wait $E 2>/dev/null

echo "== 4. SIGSTOP a worker mid-job for 5 s while another runs"
sleep 3
PROBE_SLEEP_MS=3000 "$BIN" worker w-f > "$D/f.out" & F=$!; sleep 1.5
"$BIN" push j4 >/dev/null; sleep 0.5
PROBE_SLEEP_MS=3000 "$BIN" worker w-g > "$D/g.out" & G=$!; sleep 0.5
kill -STOP $F; sleep 5; kill -CONT $F; sleep 5
echo "paused worker: $(grep -c '^start j4' "$D/f.out") start(s), $(grep -c '^done j4' "$D/f.out") done; other worker: $(grep -c '^start j4' "$D/g.out") start(s)"
echo "paused worker afterwards: $(grep '^worker' "$D/f.out" || echo 'still running')"
kill $F $G 2>/dev/null; wait $F $G 2>/dev/null

echo "== 5. Redis restarted (appendonly) under an idle worker"
sleep 3
"$BIN" worker w-h > "$D/h.out" & H=$!; sleep 1.5
stop_redis; sleep 2; start_redis; sleep 2
"$BIN" push j5 >/dev/null; sleep 4
echo "worker after restart: $(grep -c '^start j5' "$D/h.out") pickup(s); $(grep '^worker' "$D/h.out" || echo 'still running')"
kill $H 2>/dev/null; wait $H 2>/dev/null
