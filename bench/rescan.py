# Copyright 2026 The Weightserver Authors.
#
# bench/rescan.py: what a live repository's rescans cost (run_bench.py
# --phases rescan; in the full run too). A repository of --rescan-models
# small models (1,000; each one file of four 16 KiB tensors) and a "probe"
# model, one daemon with --metrics_listen, inotify and the timer off, so
# every rescan is a SIGHUP of this script's:
#   1. a rescan with nothing changed (every model reused), median ms;
#   2. a rescan after every model's file got a new mtime (every model
#      validated and mapped again), median ms;
#   3. time to first tensor of a client (ws_bench --mode first_tensor: a new
#      connection, GetModel, the smallest tensor of "probe", verified):
#      p50 and p99 with the daemon idle, and again while (2) runs back to
#      back (touch every file, SIGHUP, wait for the scan, again) for the
#      whole measurement.
# Scan durations come from the daemon's own gauge
# (weightserver_repository_scan_duration_seconds), counted by
# weightserver_repository_scans_total.
import json
import os
import re
import shutil
import signal
import statistics
import struct
import threading
import time
import urllib.request

from common import Server, run_timed


def write_model(path, seed):
    """path/model.safetensors: four F32 64x64 tensors (16 KiB each)."""
    os.makedirs(path, exist_ok=True)
    header, data, offset = {}, b"", 0
    for i in range(4):
        blob = bytes((seed + i + k) & 0xFF for k in range(256)) * 64
        header["layer%d.weight" % i] = {"dtype": "F32", "shape": [64, 64],
                                        "data_offsets": [offset, offset + len(blob)]}
        data += blob
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(os.path.join(path, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def scan_stats(address):
    """(scans so far, duration of the last one in seconds)."""
    with urllib.request.urlopen("http://%s/metrics" % address, timeout=10) as r:
        text = r.read().decode()
    scans = re.search(r"^weightserver_repository_scans_total (\S+)$", text, re.M)
    took = re.search(r"^weightserver_repository_scan_duration_seconds (\S+)$", text, re.M)
    return float(scans.group(1)), float(took.group(1))


def rescan(server, metrics, touch_root=None, timeout=120):
    """Touches every model file under touch_root (when given), sends SIGHUP,
    waits for the scan to be counted; returns its duration in ms."""
    if touch_root is not None:
        now = time.time()
        for d in os.listdir(touch_root):
            if d.startswith("m"):
                os.utime(os.path.join(touch_root, d, "model.safetensors"), (now, now))
    before, _ = scan_stats(metrics)
    server.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        scans, took = scan_stats(metrics)
        if scans > before:
            return took * 1e3
        time.sleep(0.005)
    raise RuntimeError("rescan: no scan counted within %d s" % timeout)


def bench_rescan(a, build, work, res):
    """Adds rescan_* to res."""
    n_models = 50 if a.smoke else a.rescan_models
    n_probe = 20 if a.smoke else 400
    repo = os.path.join(work, "rescan-repo")
    shutil.rmtree(repo, ignore_errors=True)
    print("rescan: writing %d models ..." % n_models, flush=True)
    for i in range(n_models):
        write_model(os.path.join(repo, "m%04d" % i), i)
    write_model(os.path.join(repo, "probe"), 7)
    wsb = os.path.join(build, "bench", "ws_bench")
    server = Server(os.path.join(build, "server", "weightserver"), repo,
                    os.path.join(work, "server-rescan.log"),
                    ["--metrics_listen", "127.0.0.1:0", "--rescan_interval", "0",
                     "--watch_repo=false"])
    try:
        line = server.proc.stdout.readline()
        m = re.search(r"metrics on (\S+)", line)
        if not m:
            raise RuntimeError("rescan: no 'metrics on' line: %r" % line)
        metrics = m.group(1)
        first_tensor = [wsb, "--server", server.addr, "--mode", "first_tensor",
                        "--model", "probe", "--n", str(n_probe)]
        idle = json.loads(run_timed(first_tensor)[2])
        runs = max(3, a.runs)
        unchanged = [rescan(server, metrics) for _ in range(runs)]
        changed = [rescan(server, metrics, repo) for _ in range(runs)]

        stop, during = threading.Event(), []

        def churn():
            while not stop.is_set():
                during.append(rescan(server, metrics, repo))

        th = threading.Thread(target=churn)
        th.start()
        try:
            busy = json.loads(run_timed(first_tensor)[2])
        finally:
            stop.set()
            th.join()
        res.update({
            "rescan_models": n_models,
            "rescan_unchanged_ms": statistics.median(unchanged),
            "rescan_all_changed_ms": statistics.median(changed),
            "rescan_runs": runs,
            "rescan_probe_n": n_probe,
            "rescan_idle_first_tensor_p50_ms": idle["median_ms"],
            "rescan_idle_first_tensor_p99_ms": idle["p99_ms"],
            "rescan_busy_first_tensor_p50_ms": busy["median_ms"],
            "rescan_busy_first_tensor_p99_ms": busy["p99_ms"],
            "rescan_scans_during": len(during),
        })
    finally:
        res["rescan_server_exit"] = server.stop()


def print_rescan(r):
    print("\nLive repository: rescans of %d models (median of %d), and a client's "
          "first tensor during them" % (r["rescan_models"], r["rescan_runs"]))
    fmt = "%-58s %s"
    print("-" * 90)
    print(fmt % ("rescan, nothing changed (every model reused)",
                 "%.1f ms" % r["rescan_unchanged_ms"]))
    print(fmt % ("rescan, every file touched (every model validated again)",
                 "%.1f ms" % r["rescan_all_changed_ms"]))
    print(fmt % ("first tensor (new connection, GetModel, 16 KiB), idle",
                 "p50 %.2f ms, p99 %.2f ms (n=%d)" % (
                     r["rescan_idle_first_tensor_p50_ms"],
                     r["rescan_idle_first_tensor_p99_ms"], r["rescan_probe_n"])))
    print(fmt % ("the same during back-to-back full rescans (%d ran)" % r["rescan_scans_during"],
                 "p50 %.2f ms, p99 %.2f ms (n=%d)" % (
                     r["rescan_busy_first_tensor_p50_ms"],
                     r["rescan_busy_first_tensor_p99_ms"], r["rescan_probe_n"])))
