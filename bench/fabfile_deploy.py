"""The peer for bench/deploy.sh: the same deploy steps as `fbs deploy deploy-workers`, done the
way the 2012 service's Fabric fabfile did them (now Fabric 3), one host at a time with `fab -H`:
directories, the binary (skipped when its sha256 matches), the host's config, the package
check, and the worker started detached with a pid file.

Driven by environment variables the benchmark sets: FBS_BENCH_BIN (the binary),
FBS_BENCH_CONFIGS (a directory with one HOST.toml per host).
"""

import hashlib
import os

from fabric import task

BIN = os.environ["FBS_BENCH_BIN"]
CONFIGS = os.environ["FBS_BENCH_CONFIGS"]
PACKAGES = os.environ.get("FBS_BENCH_PACKAGES", "util-linux rpm xorriso").split()


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


BIN_SHA = sha256(BIN)


@task
def deploy(c):
    host = c.original_host  # as given to -H (c.host is the ssh config HostName)
    c.run("mkdir -p /opt/fbs/bin /etc/fbs /var/lib/fbs /var/log/fbs && chmod 0700 /etc/fbs")
    have = c.run("sha256sum /opt/fbs/bin/fbs 2>/dev/null | cut -c1-64 || true", hide=True).stdout.strip()
    if have != BIN_SHA:
        c.put(BIN, "/opt/fbs/bin/.fbs.new")
        c.run(f"test $(sha256sum < /opt/fbs/bin/.fbs.new | cut -c1-64) = {BIN_SHA}")
        c.run("chmod 0755 /opt/fbs/bin/.fbs.new && mv -f /opt/fbs/bin/.fbs.new /opt/fbs/bin/fbs")
    c.put(os.path.join(CONFIGS, f"{host}.toml"), "/etc/fbs/fbs.toml")
    c.run("chmod 0600 /etc/fbs/fbs.toml")
    missing = c.run(
        "for p in %s; do dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q 'install ok installed' || echo $p; done"
        % " ".join(PACKAGES),
        hide=True,
    ).stdout.split()
    if missing:
        c.run("DEBIAN_FRONTEND=noninteractive apt-get install -y " + " ".join(missing))
    queue = c.run("sed -n 's/^queues = \\[\"\\(.*\\)\"\\]$/\\1/p' /etc/fbs/fbs.toml", hide=True).stdout.strip()
    name = "worker-" + queue.replace(":", "-")
    pid = f"/var/lib/fbs/{name}.pid"
    c.run(f"if [ -f {pid} ]; then kill $(cat {pid}) 2>/dev/null || true; sleep 0.5; rm -f {pid}; fi")
    c.run(
        "set -a; [ -r /etc/fbs/environment ] && . /etc/fbs/environment; set +a; "
        f"/opt/fbs/bin/fbs worker --queue {queue} --config /etc/fbs/fbs.toml --daemon "
        f"--pid-file {pid} --log-file /var/log/fbs/{name}.log",
        hide=True,
    )
