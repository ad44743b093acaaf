# Copyright 2026 The Weightserver Authors.
#
# bench/common.py: what the benchmark scripts share (run_bench.py, peers.py,
# sweep.py, python_bench.py): ports, timing a child process, CPU and memory
# of a process from /proc, the models ws_make_model writes, a weightserver
# daemon and an nginx on loopback. Plain functions and two small classes;
# nothing here is thread-safe unless it says so.
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

GB = 1e9

# Each timed load into fresh memory in a fresh process (peers.py,
# python_bench.py) starts SETTLE_S after the previous load's process exited
# (run_load). This VM gives the memory a process frees back to its host
# from about 2 s later on (virtio-balloon free page reporting,
# `page_reporting.page_reporting_order` on the kernel command line), a
# little more each second, and touching such memory again costs a
# hypervisor fault per page: `weightctl load` of 1 GiB took 0.39-0.41 s
# started at once after the previous load's process exited, 0.74-0.84 s
# 3 s after, 1.23 s 8 s after, 1.34-1.85 s 12 s after. weightctl starts
# loading within milliseconds, a Python loader after a second or two of
# imports, so timed back to back weightctl alone got the warm memory.
# Starting every load at the same time after the previous exit (a Python
# loader waits after its imports, bench/peer_load.py) puts every loader in
# the same state. On a machine without free page reporting nothing changes.
SETTLE_S = 5.0


def run_load(cmd, native):
    """run_timed(cmd) for one timed fresh-process load, the previous one's
    process having just exited: its load starts SETTLE_S from now. A native
    loader (weightctl) is started then; a Python one (bench/peer_load.py)
    now, and waits after its imports (WS_BENCH_START_AT)."""
    if native:
        time.sleep(SETTLE_S)
        return run_timed(cmd)
    env = dict(os.environ, WS_BENCH_START_AT=repr(time.time() + SETTLE_S))
    wall, cpu, out = run_timed(cmd, env=env)
    late = json.loads(out.strip().splitlines()[-1]).get("late_s", 0.0)
    if SETTLE_S > 0 and late > 0.25:
        print("bench: %s started its load %.2f s late (imports slower than "
              "SETTLE_S=%.0f s): its memory was colder than its peers'"
              % (os.path.basename(cmd[2] if len(cmd) > 2 else cmd[0]), late, SETTLE_S),
              file=sys.stderr, flush=True)
    return wall, cpu, out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listening on port %d" % port)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def children_cpu_seconds():
    """CPU seconds (user + system) of this process's children reaped so far."""
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def anon_rss(pid):
    """RSS minus file-backed pages: RssAnon + RssShmem, in bytes."""
    total = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("RssAnon:", "RssShmem:")):
                total += int(line.split()[1]) * 1024
    return total


def loopback_bytes():
    """Bytes received on the loopback interface so far (both directions of
    every loopback connection, headers included)."""
    with open("/proc/net/dev") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name.strip() == "lo":
                return int(rest.split()[0])
    raise RuntimeError("no loopback interface in /proc/net/dev")


def run_timed(cmd, timeout=None, env=None):
    """Runs cmd (in `env`, default this process's environment); returns
    (wall seconds, child CPU seconds, stdout). Raises
    subprocess.TimeoutExpired (after killing it) past `timeout` seconds."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    while timeout is not None:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            break
        if time.perf_counter() - t0 > timeout:
            p.kill()
            p.wait()
            raise subprocess.TimeoutExpired(cmd, timeout)
        time.sleep(0.05)
    else:
        _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    out = p.stdout.read()
    err = p.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd), err.strip()))
    return wall, usage.ru_utime + usage.ru_stime, out


def model_tensor_bytes(ctl, addr, model):
    """The model's tensor bytes, as the server lists them (weightctl inspect)."""
    out = subprocess.run([ctl, "--server", addr, "inspect", model, "--json"],
                         capture_output=True, text=True, check=True).stdout
    return sum(t["length"] for t in json.loads(out)["tensors"])


def model_files(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d)
                  if f.endswith(".safetensors"))


def make_model(tools, path, size_mib, shards=4, tensors=None):
    if os.path.isdir(path) and model_files(path):
        return
    cmd = [tools, "--out", path, "--size_mib", str(size_mib),
           "--shards", str(shards)]
    if tensors:
        cmd += ["--tensors", str(tensors)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def warm(paths):
    for p in paths:
        with open(p, "rb") as f:
            while f.read(16 << 20):
                pass


class Server:
    """weightserver --repo REPO (repo None: `extra` says where its models
    come from, e.g. --upstream) on 127.0.0.1:0."""

    def __init__(self, binary, repo, log, extra=()):
        # Every client of the bench is 127.0.0.1: without a policy they would
        # all count as one client, and the N-clients rows would run into
        # --max_streams_per_client (64) and be retried with backoff.
        source = [] if repo is None else ["--repo", repo]
        self.proc = subprocess.Popen(
            [binary] + source + ["--listen", "127.0.0.1:0",
                                 "--max_streams_per_client=0"] + list(extra),
            stdout=subprocess.PIPE, stderr=open(log, "w"), text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on (\S+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError("weightserver did not start (see %s)" % log)
        self.addr = m.group(1)
        self.pid = self.proc.pid

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


class MemorySampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop_flag = pid, anon_rss(pid), False

    def run(self):
        while not self.stop_flag:
            self.peak = max(self.peak, anon_rss(self.pid))
            time.sleep(0.02)


class Nginx:
    """nginx serving `root` on 127.0.0.1 as an operator would set it up
    (bench/nginx.conf.in: sendfile on), its files under `work`/nginx.

    Example:
      with Nginx(models, work) as web:
          url = "http://127.0.0.1:%d/%s" % (web.port, "bench/model.safetensors")
    """

    def __init__(self, root, work):
        prefix = os.path.join(work, "nginx")
        os.makedirs(prefix, exist_ok=True)
        self.port = free_port()
        here = os.path.dirname(os.path.abspath(__file__))
        conf = open(os.path.join(here, "nginx.conf.in")).read()
        conf = conf.replace("@PREFIX@", prefix).replace("@PORT@", str(self.port))
        conf = conf.replace("@ROOT@", root)
        conf_path = os.path.join(prefix, "nginx.conf")
        with open(conf_path, "w") as f:
            f.write(conf)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = subprocess.Popen([nginx, "-p", prefix, "-c", conf_path],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        try:
            wait_port(self.port)
        except RuntimeError:
            self.stop()
            raise RuntimeError("nginx did not start (see %s/error.log)" % prefix)

    def url(self, root, path):
        """The URL of `path`, a file under `root` (the served folder)."""
        return "http://127.0.0.1:%d/%s" % (self.port, os.path.relpath(path, root))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
