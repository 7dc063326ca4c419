#!/usr/bin/env bash
# Test hosts for `fbs deploy`: h1..h4, each a network namespace (10.200.0.1N on a bridge at
# 10.200.0.1) with its own hostname, its own /etc, /opt, /srv and /var (overlays whose upper
# dirs are $FBS_TESTENV_DIR/hosts/hN/<dir>/up, so tests can look at one host's files from
# outside), and its own sshd with its own host key. Clients use the generated ssh_config
# (StrictHostKeyChecking yes, a generated known_hosts, a client key). A redis-server listens on
# the bridge address (protected mode off) so the hosts' workers can reach it.
#
# When network namespaces are refused, the hosts are sshd on 127.0.0.1:2201-2204 (still with
# a mount namespace each when `unshare` works). TESTENV_SSH_MODE=loopback forces that.
# FBS_TEST_HOST_COUNT (default 4, at most 9) and TESTENV_NET (default 0: 10.200.0.x, link
# names fbs-*) let a benchmark bring up its own, larger set beside the test hosts.
#
#   hosts.sh up | down | status | reset       (reset: remove fbs from every host, stop its
#                                             daemons, give back changed host keys)
#   hosts.sh stop-sshd H | start-sshd H       (a host going down and coming back)
#   hosts.sh rekey H | restore-key H          (a host whose key changed, and back)
#   hosts.sh exec H CMD...                    (run CMD in H's namespaces, as root)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
D=${FBS_TESTENV_DIR:-$ROOT/.testenv}
HD=$D/hosts
SD=$D/ssh
COUNT=${FBS_TEST_HOST_COUNT:-4}
NET=${TESTENV_NET:-0}
HOSTS=()
for n in $(seq 1 "$COUNT"); do HOSTS+=("h$n"); done
if [ "$NET" = 0 ]; then P=fbs; else P=fbs$NET; fi
BRIDGE=$P-br0
BRIDGE_ADDR=10.200.$NET.1
mkdir -p "$D/pids" "$D/logs"

log() { printf 'testenv hosts: %s\n' "$*" >&2; }

idx() { echo "${1#h}"; }
addr_of() { if [ "$(cat "$HD/mode")" = netns ]; then echo "10.200.$NET.1$(idx "$1")"; else echo 127.0.0.1; fi; }
port_of() { if [ "$(cat "$HD/mode")" = netns ]; then echo 22; else echo "2$NET$(printf %02d "$(idx "$1")")"; fi; }
anchor_of() { cat "$D/pids/host-$1.pid" 2>/dev/null || true; }
alive() { [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -c1)" != Z ]; }

# Run a command inside host $1's namespaces.
in_host() {
  local h=$1 a; shift
  a=$(anchor_of "$h")
  alive "$a" || { log "$h is not up"; return 3; }
  if [ "$(cat "$HD/mode")" = netns ]; then
    nsenter -t "$a" -m -u -n -- "$@"
  elif [ -f "$HD/$h/mountns" ]; then
    nsenter -t "$a" -m -u -- "$@"
  else
    "$@"
  fi
}

can_netns() {
  [ "${TESTENV_SSH_MODE:-}" != loopback ] || return 1
  ip netns add "$P-probe" 2>/dev/null || return 1
  ip netns del "$P-probe"
}

net_up() {
  ip link show "$BRIDGE" >/dev/null 2>&1 || {
    ip link add "$BRIDGE" type bridge
    ip addr add "$BRIDGE_ADDR/24" dev "$BRIDGE"
  }
  ip link set "$BRIDGE" up
  local h i
  for h in "${HOSTS[@]}"; do
    i=$(idx "$h")
    ip netns list | grep -qw "$P-$h" || ip netns add "$P-$h"
    if ! ip link show "$P-$h-v" >/dev/null 2>&1; then
      ip link add "$P-$h-v" type veth peer name eth0 netns "$P-$h"
      ip link set "$P-$h-v" master "$BRIDGE" up
      ip -n "$P-$h" addr add "10.200.$NET.1$i/24" dev eth0
    fi
    ip -n "$P-$h" link set eth0 up
    ip -n "$P-$h" link set lo up
  done
}

keys() {
  mkdir -p "$SD"
  [ -f "$SD/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C fbs-test-client -f "$SD/id_ed25519"
  cp "$SD/id_ed25519.pub" "$SD/authorized_keys"
  local h
  : > "$SD/known_hosts"
  : > "$SD/ssh_config"
  for h in "${HOSTS[@]}"; do
    mkdir -p "$HD/$h"
    [ -f "$HD/$h/host_key" ] || ssh-keygen -q -t ed25519 -N '' -C "$h" -f "$HD/$h/host_key"
    echo "$h $(cut -d' ' -f1,2 "$HD/$h/host_key.pub")" >> "$SD/known_hosts"
    cat >> "$SD/ssh_config" <<EOF
Host $h
  HostName $(addr_of "$h")
  Port $(port_of "$h")
  HostKeyAlias $h
EOF
  done
  cat >> "$SD/ssh_config" <<EOF
Host *
  User root
  IdentityFile $SD/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $SD/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR
  ConnectTimeout 5
EOF
}

sshd_config() {
  local h=$1
  cat > "$HD/$h/sshd_config" <<EOF
ListenAddress $(addr_of "$h"):$(port_of "$h")
HostKey $HD/$h/host_key
PidFile $D/pids/sshd-$h.pid
AuthorizedKeysFile $SD/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxSessions 50
MaxStartups 50:30:100
Subsystem sftp internal-sftp
SetEnv TESTENV_HOST=$h
EOF
}

# The namespace anchor: a process that keeps host $1's mount (and uts) namespace alive, with
# the overlays mounted; every other process of the host is started inside it with nsenter.
anchor_up() {
  local h=$1 a dirs="etc opt srv var" d setup pid
  a=$(anchor_of "$h")
  if alive "$a"; then return; fi
  for d in $dirs; do mkdir -p "$HD/$h/$d/up" "$HD/$h/$d/work"; done
  setup="hostname $h"
  for d in $dirs; do
    setup="$setup && mount -t overlay overlay -o lowerdir=/$d,upperdir=$HD/$h/$d/up,workdir=$HD/$h/$d/work /$d"
  done
  {
    echo "127.0.0.1 localhost"
    for n in "${HOSTS[@]}"; do echo "$(addr_of "$n") $n"; done
  } > "$HD/$h/hosts"
  setup="$setup && cp $HD/$h/hosts /etc/hosts"
  local pre=()
  [ "$(cat "$HD/mode")" = netns ] && pre=(ip netns exec "$P-$h")
  rm -f "$HD/$h/mountns"
  if "${pre[@]}" unshare --mount --uts --propagation private true 2>/dev/null; then
    setsid "${pre[@]}" unshare --mount --uts --propagation private \
      sh -c "$setup && exec sleep infinity" </dev/null >"$D/logs/host-$h.log" 2>&1 &
    pid=$!
    touch "$HD/$h/mountns"
  else
    log "$h: no mount namespace (unshare refused): hosts share this machine's files"
    setsid "${pre[@]}" sleep infinity </dev/null >/dev/null 2>&1 &
    pid=$!
  fi
  for _ in $(seq 1 100); do
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sleep ] && break; sleep 0.05
  done
  alive "$pid" || { log "$h: the namespace did not come up (see $D/logs/host-$h.log)"; exit 3; }
  echo "$pid" > "$D/pids/host-$h.pid"
}

sshd_up() {
  local h=$1 pid
  pid=$(cat "$D/pids/sshd-$h.pid" 2>/dev/null || true)
  if alive "$pid"; then return; fi
  sshd_config "$h"
  mkdir -p /run/sshd
  in_host "$h" /usr/sbin/sshd -f "$HD/$h/sshd_config" -E "$D/logs/sshd-$h.log"
  for _ in $(seq 1 50); do [ -s "$D/pids/sshd-$h.pid" ] && break; sleep 0.05; done
}

sshd_down() {
  local h=$1 pid
  pid=$(cat "$D/pids/sshd-$h.pid" 2>/dev/null || true)
  if alive "$pid"; then
    kill "$pid"
    for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.05; done
  fi
  rm -f "$D/pids/sshd-$h.pid"
}

redis_up() {
  local dir=$D/redis-hosts pidf=$D/pids/redis-hosts.pid port bind
  mkdir -p "$dir"
  if alive "$(cat "$pidf" 2>/dev/null || true)" && [ -f "$dir/url" ]; then return; fi
  if [ "$(cat "$HD/mode")" = netns ]; then bind=$BRIDGE_ADDR; port=6379; else
    bind=127.0.0.1
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  fi
  redis-server --port "$port" --bind "$bind" --protected-mode no --daemonize yes --pidfile "$pidf" \
    --dir "$dir" --logfile "$D/logs/redis-hosts.log" --save '' --appendonly no
  for _ in $(seq 1 50); do redis-cli -h "$bind" -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -h "$bind" -p "$port" ping >/dev/null || { log "redis on $bind:$port did not start"; exit 3; }
  echo "redis://$bind:$port/0" > "$dir/url"
}

wait_ssh() {
  local h
  for h in "${HOSTS[@]}"; do
    for _ in $(seq 1 50); do
      ssh -F "$SD/ssh_config" "$h" true 2>/dev/null && continue 2
      sleep 0.1
    done
    log "$h: ssh does not answer (see $D/logs/sshd-$h.log)"; exit 3
  done
}

write_env() {
  {
    echo "export FBS_TEST_SSH_CONFIG='$SD/ssh_config'"
    echo "export FBS_TEST_HOSTS='${HOSTS[*]}'"
    echo "export FBS_TEST_HOSTS_DIR='$HD'"
    echo "export FBS_TEST_HOSTS_MODE='$(cat "$HD/mode")'"
    echo "export FBS_TEST_HOSTS_REDIS_URL='$(cat "$D/redis-hosts/url")'"
    echo "export FBS_TEST_HOSTS_SCRIPT='$ROOT/scripts/testenv/hosts.sh'"
    echo "export FBS_TEST_HOST_COUNT='$COUNT' TESTENV_NET='$NET'"
  } > "$D/hosts.env"
}

# Stop every process inside host $1's namespaces (daemons left by tests included).
host_procs_down() {
  local h=$1 a ns p
  a=$(anchor_of "$h")
  alive "$a" || return 0
  ns=$(readlink "/proc/$a/ns/mnt")
  [ -f "$HD/$h/mountns" ] || return 0
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$p" = "$a" ] && continue
    [ "$(readlink "/proc/$p/ns/mnt" 2>/dev/null)" = "$ns" ] && kill -9 "$p" 2>/dev/null || true
  done
}

up() {
  mkdir -p "$HD"
  if [ ! -f "$HD/mode" ]; then
    if can_netns; then echo netns > "$HD/mode"; else echo loopback > "$HD/mode"; fi
  fi
  [ "$(cat "$HD/mode")" = netns ] && net_up
  keys
  local h
  for h in "${HOSTS[@]}"; do anchor_up "$h"; sshd_up "$h"; done
  redis_up
  wait_ssh
  write_env
  log "up ($(cat "$HD/mode")): ${HOSTS[*]}; source $D/hosts.env"
}

down() {
  local h a p
  for h in "${HOSTS[@]}"; do
    sshd_down "$h"
    host_procs_down "$h"
    a=$(anchor_of "$h")
    if alive "$a"; then kill -9 "$a" 2>/dev/null || true; fi
    rm -f "$D/pids/host-$h.pid"
  done
  p=$(cat "$D/pids/redis-hosts.pid" 2>/dev/null || true)
  if alive "$p"; then kill "$p"; for _ in $(seq 1 50); do alive "$p" || break; sleep 0.1; done; fi
  rm -f "$D/pids/redis-hosts.pid" "$D/redis-hosts/url"
  for h in "${HOSTS[@]}"; do
    ip link del "$P-$h-v" 2>/dev/null || true
    ip netns del "$P-$h" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
  rm -rf "$HD" "$D/hosts.env"
  log "down"
}

reset() {
  local h
  for h in "${HOSTS[@]}"; do
    sshd_down "$h"
    if [ -f "$HD/$h/host_key.orig" ]; then
      mv -f "$HD/$h/host_key.orig" "$HD/$h/host_key"; mv -f "$HD/$h/host_key.pub.orig" "$HD/$h/host_key.pub"
    fi
    host_procs_down "$h"
    in_host "$h" sh -c 'rm -rf /opt/fbs /etc/fbs /var/lib/fbs /var/log/fbs /var/cache/fbs /srv/staging /etc/systemd/system/fbs-*'
    sshd_up "$h"
  done
  wait_ssh
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  reset) reset ;;
  status)
    for h in "${HOSTS[@]}"; do
      if alive "$(cat "$D/pids/sshd-$h.pid" 2>/dev/null || true)"; then echo "$h: sshd running"; else echo "$h: sshd down"; fi
    done ;;
  stop-sshd) sshd_down "$2" ;;
  start-sshd) sshd_up "$2" ;;
  rekey)
    [ -f "$HD/$2/host_key.orig" ] || { mv "$HD/$2/host_key" "$HD/$2/host_key.orig"; mv "$HD/$2/host_key.pub" "$HD/$2/host_key.pub.orig"; }
    rm -f "$HD/$2/host_key" "$HD/$2/host_key.pub"
    ssh-keygen -q -t ed25519 -N '' -C "$2-new" -f "$HD/$2/host_key"
    sshd_down "$2"; sshd_up "$2" ;;
  restore-key)
    if [ -f "$HD/$2/host_key.orig" ]; then
      mv -f "$HD/$2/host_key.orig" "$HD/$2/host_key"; mv -f "$HD/$2/host_key.pub.orig" "$HD/$2/host_key.pub"
    fi
    sshd_down "$2"; sshd_up "$2" ;;
  exec) h=$2; shift 2; in_host "$h" "$@" ;;
  *) echo "usage: $0 up|down|status|reset|stop-sshd H|start-sshd H|rekey H|restore-key H|exec H CMD" >&2; exit 2 ;;
esac
