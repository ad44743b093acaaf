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
import shutil
import signal
import socket
import subprocess
import threading
import time

GB = 1e9


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


def run_timed(cmd, timeout=None):
    """Runs cmd; returns (wall seconds, child CPU seconds, stdout). Raises
    subprocess.TimeoutExpired (after killing it) past `timeout` seconds."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
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
    def __init__(self, binary, repo, log, extra=()):
        # Every client of the bench is 127.0.0.1: without a policy they would
        # all count as one client, and the N-clients rows would run into
        # --max_streams_per_client (64) and be retried with backoff.
        self.proc = subprocess.Popen(
            [binary, "--repo", repo, "--listen", "127.0.0.1:0",
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
