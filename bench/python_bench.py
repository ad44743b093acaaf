#!/usr/bin/env python3
# Copyright 2026 The Weightserver Authors.
#
# bench/python_bench.py: the Python SDK's rows, side by side with weightctl.
#
#   PY=build/python-venv/bin/python   # a Python with `weightserver` installed
#   $PY bench/python_bench.py [--build build] [--size-gib 2] [--runs 5]
#   $PY bench/python_bench.py --smoke     # seconds; run by the python.sdk tests
#
# In one run, on loopback with the page cache warm, alternated A/B/C (the
# order rotated each round) so the machine's noise is shared:
#   1. `weightctl load MODEL` (a fresh process, into host memory, verified);
#   2. `ws.load(uri, framework="np")` in a fresh Python process;
#   3. `ws.load(uri, framework="pt")` the same;
#      each as GB/s of tensor bytes over the load's own time (connect,
#      GetModel, fetch, verify; as weightctl reports it, and timed around
#      ws.load in Python: interpreter start-up and the imports of numpy,
#      ml_dtypes and torch are left out), and the ratios 2/1 and 3/1 (medians);
#      each load starts SETTLE_S after the previous one's process exited,
#      whatever its imports took (common.run_load: why, on this VM);
#   4. the GIL: the longest pause of a Python thread that ticks every 1 ms
#      while ws.load runs in the main thread, against the load's duration
#      (a load holding the GIL while bytes move would pause it throughout);
#   5. get_slice of a 1/8 column shard of every 2-D tensor: bytes on the
#      loopback interface over the shard's bytes.
# Prints a table and writes python_results.json under --out.
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import GB, Server, loopback_bytes, make_model, model_files, run_load, run_timed, warm  # noqa: E402

PEER_LOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer_load.py")


def gil_pause(uri):
    """(longest pause of a Python thread ticking every 1 ms while ws.load
    runs in the main thread, that load's duration), in seconds. A load that
    held the GIL while bytes move would pause the thread for about the whole
    load."""
    import weightserver as ws
    stop, gaps = threading.Event(), []

    def tick():
        last = time.perf_counter()
        while not stop.is_set():
            time.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    th = threading.Thread(target=tick)
    th.start()
    time.sleep(0.01)
    del gaps[:]
    t0 = time.perf_counter()
    d = ws.load(uri, framework="np")
    took = time.perf_counter() - t0
    stop.set()
    th.join()
    del d
    return max(gaps), took


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default=None, help="default BUILD/bench-python")
    ap.add_argument("--size-gib", type=float, default=2.0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args()
    if a.smoke:
        a.size_gib, a.runs = 0.0625, 1
        common.SETTLE_S = 0  # Seconds matter more than the memory's state here.
    import weightserver as ws
    build = os.path.abspath(a.build)
    out = os.path.abspath(a.out or os.path.join(build, "bench-python" + ("-smoke" if a.smoke else "")))
    models = os.path.join(out, "models")
    os.makedirs(models, exist_ok=True)
    size_mib = int(a.size_gib * 1024)
    name = "bench-%dmib" % size_mib
    make_model(os.path.join(build, "tools", "ws_make_model"), os.path.join(models, name), size_mib)
    warm(model_files(os.path.join(models, name)))
    ctl = os.path.join(build, "cli", "weightctl")
    server = Server(os.path.join(build, "server", "weightserver"), models,
                    os.path.join(out, "server.log"))
    res = {"size_gib": a.size_gib, "runs": a.runs, "python": sys.version.split()[0],
           "numpy": __import__("numpy").__version__}
    try:
        import torch
        res["torch"] = torch.__version__
        uri = "weightserver://%s/%s" % (server.addr, name)
        rates = {"weightctl": [], "np": [], "pt": []}
        tensor_bytes = None
        run_timed([ctl, "--server", server.addr, "load", name])  # Warm-up.
        loaders = ["weightctl", "np", "pt"]
        for r in range(a.runs):
            # Rotated each round: each loader follows each other one as often
            # (a process's first touch of fresh memory costs more or less
            # depending on what the previous process left behind).
            for k in loaders[r % 3:] + loaders[:r % 3]:
                if k == "weightctl":
                    _, _, text = run_load([ctl, "--server", server.addr, "load", name], native=True)
                    m = re.search(r"loaded \d+ tensors, .* in ([\d.]+) s", text)
                    if not m:
                        raise RuntimeError("unexpected weightctl output: " + text)
                    rates[k].append(float(m.group(1)))
                    continue
                got = json.loads(run_load([sys.executable, PEER_LOAD, "ws-" + k, uri], native=False)[2])
                assert tensor_bytes in (None, got["bytes"]), (tensor_bytes, got)
                tensor_bytes = got["bytes"]
                rates[k].append(got["seconds"])
        for k, walls in rates.items():
            res["%s_all_gbps" % k] = [tensor_bytes / w / GB for w in walls]
            res["%s_gbps" % k] = statistics.median(res["%s_all_gbps" % k])
        res["tensor_bytes"] = tensor_bytes
        res["np_vs_weightctl"] = res["np_gbps"] / res["weightctl_gbps"]
        res["pt_vs_weightctl"] = res["pt_gbps"] / res["weightctl_gbps"]
        pauses = [gil_pause(uri) for _ in range(max(3, a.runs))]
        res["gil_longest_pause_s"] = statistics.median(p for p, _ in pauses)
        res["gil_load_s"] = statistics.median(t for _, t in pauses)
        res["gil_pause_over_load"] = res["gil_longest_pause_s"] / res["gil_load_s"]

        ratios = []
        for _ in range(a.runs):
            with ws.safe_open(uri) as f:
                shard = 0
                lo0 = loopback_bytes()
                for k in f.offset_keys():
                    s = f.get_slice(k)
                    shape = s.get_shape()
                    if len(shape) == 2 and shape[1] % 8 == 0:
                        w = shape[1] // 8
                        shard += s[:, w:2 * w].nbytes
                ratios.append((loopback_bytes() - lo0) / shard)
        res["get_slice_wire_over_shard"] = statistics.median(ratios)
    finally:
        res["server_exit"] = server.stop()
    with open(os.path.join(out, "python_results.json"), "w") as f:
        json.dump(res, f, indent=2)
    def spread(k):
        return "%.2f-%.2f" % (min(res[k + "_all_gbps"]), max(res[k + "_all_gbps"]))

    rows = [
        ("weightctl load (its reported time)", "%.2f GB/s (%s)" % (res["weightctl_gbps"], spread("weightctl"))),
        ("ws.load framework=np (fresh process)", "%.2f GB/s (%s)  %.2fx weightctl" % (
            res["np_gbps"], spread("np"), res["np_vs_weightctl"])),
        ("ws.load framework=pt (fresh process)", "%.2f GB/s (%s)  %.2fx weightctl" % (
            res["pt_gbps"], spread("pt"), res["pt_vs_weightctl"])),
        ("longest pause of a Python thread (1 ms ticks)",
         "%.1f ms during a %.0f ms ws.load (%.3f of it)" % (
             1e3 * res["gil_longest_pause_s"], 1e3 * res["gil_load_s"], res["gil_pause_over_load"])),
        ("get_slice 1/8 columns: wire / shard", "%.4f" % res["get_slice_wire_over_shard"]),
    ]
    print("\nPython SDK, %.2f GiB model, median of %d (python %s, numpy %s, torch %s)"
          % (a.size_gib, a.runs, res["python"], res["numpy"], res["torch"]))
    for k, v in rows:
        print("  %-42s %s" % (k, v))
    return 0 if res["server_exit"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
