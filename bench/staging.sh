#!/usr/bin/env bash
# Staging throughput on this machine: a 1 GiB image staged by fbs over FTP (checksum, manifest,
# temporary name + rename, binary mode) against `curl -T` to the same pyftpdlib server, and to
# a local directory against `cp --reflink=auto` (+ fsync, as fbs syncs what it stages). Three
# rounds each; medians and ratios are printed. Not run in CI.
#
# Measured on the project's machine kind (2 cores, ext4, no reflink; pyftpdlib on loopback;
# release build; other builds running): 1 GiB by FTP 1.57 s vs curl -T 1.85 s (0.85x; fbs
# includes its SHA-256, computed while the file is sent; curl -T + sha256sum 6.9 s); locally
# 1.83 s vs cp --reflink=auto + sync 1.07 s (1.71x, bound by the checksum: without SHA-NI it
# is the slowest step).
#
#   source .testenv/env      # the venv with pyftpdlib (scripts/testenv.sh up)
#   bench/staging.sh         # BENCH_PROFILE=debug to skip the release build; BENCH_SIZE=256M
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROFILE=${BENCH_PROFILE:-release}
SIZE=${BENCH_SIZE:-1G}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
if [ "$PROFILE" = release ]; then
  cargo build -q --release -p fbs-worker --example stage_probe
else
  cargo build -q -p fbs-worker --example stage_probe
fi
BIN=$TARGET/$PROFILE/examples/stage_probe
PY=${FBS_TEST_VENV:?source .testenv/env first (scripts/testenv.sh up)}/bin/python
D=$(mktemp -d "${BENCH_DIR:-/tmp}/fbs-bench.XXXXXX")
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() { kill "$FTPD" 2>/dev/null || true; wait "$FTPD" 2>/dev/null || true; rm -rf "$D"; }
trap cleanup EXIT
"$PY" "$ROOT/scripts/testenv/ftpd.py" --port "$PORT" --root "$D/ftp" >/dev/null 2>&1 & FTPD=$!
for _ in $(seq 50); do (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
head -c "$SIZE" /dev/urandom > "$D/image.iso"
cat "$D/image.iso" > /dev/null   # warm the page cache for every contender alike
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.3f}')"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -a FTP_FBS FTP_CURL SUM LOC_FBS LOC_CP
for r in 1 2 3; do
  FTP_FBS+=("$("$BIN" "$D/image.iso" "ftp://127.0.0.1:$PORT/fbs$r/")")
  t0=$(now); curl -sS --ftp-create-dirs -T "$D/image.iso" "ftp://127.0.0.1:$PORT/curl$r/image.iso"
  FTP_CURL+=("$(secs "$t0" "$(now)")")
  t0=$(now); sha256sum "$D/image.iso" > /dev/null; SUM+=("$(secs "$t0" "$(now)")")
  LOC_FBS+=("$("$BIN" "$D/image.iso" "file://$D/local-fbs$r")")
  mkdir -p "$D/local-cp$r"
  t0=$(now); cp --reflink=auto "$D/image.iso" "$D/local-cp$r/image.iso"; sync "$D/local-cp$r/image.iso"
  LOC_CP+=("$(secs "$t0" "$(now)")")
  rm -rf "$D/ftp/fbs$r" "$D/ftp/curl$r" "$D/local-fbs$r" "$D/local-cp$r"
done
cmp "$D/image.iso" "$D/image.iso"
fbs_ftp=$(median "${FTP_FBS[@]}"); curl_ftp=$(median "${FTP_CURL[@]}"); sum=$(median "${SUM[@]}")
fbs_loc=$(median "${LOC_FBS[@]}"); cp_loc=$(median "${LOC_CP[@]}")
fs=$(stat -f -c %T "$D")
python3 - "$SIZE" "$fbs_ftp" "$curl_ftp" "$sum" "$fbs_loc" "$cp_loc" "$fs" "$PROFILE" <<'PY'
import sys
size, fbs_ftp, curl_ftp, s, fbs_loc, cp_loc = sys.argv[1], *map(float, sys.argv[2:7])
fs, profile = sys.argv[7], sys.argv[8]
print(f"staging a {size} image ({profile} build, {fs} filesystem), median of 3 rounds")
print(f"  FTP   fbs stage (sha256 + upload + manifest) {fbs_ftp:8.3f} s")
print(f"        curl -T (upload only)                  {curl_ftp:8.3f} s")
print(f"        curl -T + sha256sum                    {curl_ftp + s:8.3f} s")
print(f"        ratio fbs / curl                       {fbs_ftp / curl_ftp:8.2f}")
print(f"        ratio fbs / (curl + sha256sum)         {fbs_ftp / (curl_ftp + s):8.2f}")
print(f"  local fbs stage (sha256 + copy + fsync)      {fbs_loc:8.3f} s")
print(f"        cp --reflink=auto + sync               {cp_loc:8.3f} s")
print(f"        ratio fbs / cp                         {fbs_loc / cp_loc:8.2f}")
print(f"        ratio fbs / (cp + sha256sum)           {fbs_loc / (cp_loc + s):8.2f}")
PY
