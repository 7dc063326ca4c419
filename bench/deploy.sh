#!/usr/bin/env bash
# Deploy timings, one run, on network-namespace hosts of this machine (scripts/testenv/hosts.sh
# with 8 hosts on 10.200.1.x, beside the test hosts): `fbs deploy deploy-workers` to 1 host and
# to 8 hosts from nothing, the no-change redeploy of 8, and Fabric 3 doing the same steps host by
# host (`fab -H h1,…,h8 deploy`, bench/fabfile_deploy.py) — times and ratios printed.
# Not run in CI. Needs root. FBS_BIN names the binary (default: a release build).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export FBS_TESTENV_DIR=${FBS_BENCH_DIR:-/tmp/fbs-bench} FBS_TEST_HOST_COUNT=8 TESTENV_NET=1
HOSTS_SH=$ROOT/scripts/testenv/hosts.sh
if [ -z "${FBS_BIN:-}" ]; then
  (cd "$ROOT" && cargo build --release -q)
  FBS_BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/fbs
fi
W=$(mktemp -d)
cleanup() { bash "$HOSTS_SH" down >/dev/null 2>&1 || true; rm -rf "$W"; }
trap cleanup EXIT

bash "$HOSTS_SH" up
# shellcheck disable=SC1091
source "$FBS_TESTENV_DIR/hosts.env"
SSH=$FBS_TEST_SSH_CONFIG
BROKER=$FBS_TEST_HOSTS_REDIS_URL
{
  printf '[broker]\ndefault="%s"\n[releases]\nreleases=17,rawhide\n[workers-17]\n' "$BROKER"
  printf 'x86_64=root@h1;root@h2\ni686=root@h3;root@h4\n[workers-rawhide]\n'
  printf 'x86_64=root@h5;root@h6\ni686=root@h7;root@h8\n'
} > "$W/deploy.conf"
for h in $FBS_TEST_HOSTS; do
  ssh -F "$SSH" "$h" "mkdir -p /etc/fbs && echo \"FBS_TEST_BUILD_SCRIPT='true'\" > /etc/fbs/environment"
done

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }
run_fbs() { "$FBS_BIN" deploy deploy-workers --plain -c "$W/deploy.conf" --ssh-config "$SSH" "$@" >"$W/out" 2>"$W/err" || { cat "$W/out" "$W/err"; exit 1; }; }

bash "$HOSTS_SH" reset >/dev/null
t=$(now); run_fbs --hosts h1; ONE=$(secs "$t" "$(now)")
bash "$HOSTS_SH" reset >/dev/null
t=$(now); run_fbs; EIGHT=$(secs "$t" "$(now)")
grep -q "8 changed" "$W/out" || { cat "$W/out"; exit 1; }
t=$(now); run_fbs; AGAIN=$(secs "$t" "$(now)")
grep -q "nothing changed" "$W/out" || { cat "$W/out"; exit 1; }

# The same configs for Fabric: what fbs deploy wrote on each host.
mkdir -p "$W/configs"
for h in $FBS_TEST_HOSTS; do cp "$FBS_TESTENV_DIR/hosts/$h/etc/up/fbs/fbs.toml" "$W/configs/$h.toml"; done
if [ ! -x "$W/venv/bin/fab" ]; then
  python3 -m venv "$W/venv" && "$W/venv/bin/pip" install -q --disable-pip-version-check 'fabric>=3,<4'
fi
bash "$HOSTS_SH" reset >/dev/null
FAB_HOSTS=$(echo "$FBS_TEST_HOSTS" | tr ' ' ',')
t=$(now)
FBS_BENCH_BIN=$FBS_BIN FBS_BENCH_CONFIGS=$W/configs "$W/venv/bin/fab" -r "$ROOT/bench" -c fabfile_deploy \
  -S "$SSH" -H "$FAB_HOSTS" deploy >"$W/fab.out" 2>&1 || { cat "$W/fab.out"; exit 1; }
FAB=$(secs "$t" "$(now)")
t=$(now)
FBS_BENCH_BIN=$FBS_BIN FBS_BENCH_CONFIGS=$W/configs "$W/venv/bin/fab" -r "$ROOT/bench" -c fabfile_deploy \
  -S "$SSH" -H "$FAB_HOSTS" deploy >"$W/fab.out" 2>&1 || { cat "$W/fab.out"; exit 1; }
FAB_AGAIN=$(secs "$t" "$(now)")

SIZE=$(stat -c %s "$FBS_BIN")
echo
echo "deploy-workers, binary $((SIZE / 1000000)) MB, $(nproc) cores, $(cat "$FBS_TESTENV_DIR/hosts/mode") hosts"
printf '%-42s %8s s\n' "fbs deploy, 1 host (from nothing)" "$ONE" \
  "fbs deploy, 8 hosts (from nothing)" "$EIGHT" \
  "fbs deploy, 8 hosts, nothing to change" "$AGAIN" \
  "Fabric 3, fab -H 8 hosts (from nothing)" "$FAB" \
  "Fabric 3, 8 hosts again (restarts all)" "$FAB_AGAIN"
python3 - "$ONE" "$EIGHT" "$AGAIN" "$FAB" "$FAB_AGAIN" <<'PY'
import sys
one, eight, again, fab, fab_again = map(float, sys.argv[1:])
print(f"8 hosts / 1 host (fbs):          {eight / one:5.2f}x the time for 8x the hosts")
print(f"Fabric / fbs, 8 hosts:           {fab / eight:5.2f}x")
print(f"no-change redeploy / first, fbs: {again / eight:5.2f}")
print(f"Fabric again / fbs again:        {fab_again / again:5.2f}x")
PY
