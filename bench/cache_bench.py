# Copyright 2026 The Weightserver Authors.
#
# bench/cache_bench.py: the cache tier on loopback (run_bench.py --phases
# cache; in the full run too). One origin daemon (--metrics_listen: its
# ReadBytes bytes are what the caches took from it) and cache daemons
# (--upstream) on this machine:
#   1. `weightctl load` of the model from the origin, from a warm cache (its
#      copy complete: `weightctl prefetch` first) and through a cold cache
#      (a new daemon on an empty --cache_dir for each load), alternated, each
#      load a fresh process started SETTLE_S after the previous one exited
#      (common.run_load); GB/s medians and the ratios warm / origin (goal
#      >= 0.95) and cold / origin (goal >= 0.8);
#   2. 8 clients loading the --multi model at once through one cold cache:
#      the bytes the origin sent (ReadBytes) over the model's file bytes
#      (goal <= 1.02);
#   3. the point that checks bench/rollout_sim.py: `weightctl prefetch`
#      through one cold cache (its time gives the link rate), then through
#      three cold caches at once: the time until the last is done and the
#      origin's bytes, beside the simulation's prediction for three caches
#      under one origin at that rate (rollout_sim.py --check).
# On this 2-core VM origin, cache and client share the CPU: a cache's hop
# costs CPU that a network hop between machines would not.
import os
import re
import shutil
import statistics
import subprocess
import time
import urllib.request

from common import GB, Server, model_files, run_load, run_timed

HERE = os.path.dirname(os.path.abspath(__file__))


class CacheDaemon(Server):
    """weightserver --upstream UPSTREAM --cache_dir DIR (emptied first)."""

    def __init__(self, binary, upstream, cache_dir, log, size="1T"):
        shutil.rmtree(cache_dir, ignore_errors=True)
        os.makedirs(cache_dir)
        super().__init__(binary, None, log, ["--upstream", upstream, "--cache_dir",
                                             cache_dir, "--cache_size", size])
        self.dir = cache_dir

    def stop(self):
        rc = super().stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        return rc


def origin_readbytes(metrics, model):
    """Payload bytes the origin has sent in ReadBytes streams (to caches) of
    `model` (a cache also reads the headers of every other model)."""
    with urllib.request.urlopen("http://%s/metrics" % metrics, timeout=10) as r:
        text = r.read().decode()
    return sum(float(v) for v in re.findall(
        r'^weightserver_sent_bytes_total\{method="ReadBytes",model="%s"\} (\S+)$'
        % re.escape(model), text, re.M))


def bench_cache(a, build, models, big, multi, work, res):
    binary = os.path.join(build, "server", "weightserver")
    ctl = os.path.join(build, "cli", "weightctl")
    file_bytes = sum(os.path.getsize(f) for f in model_files(os.path.join(models, big)))
    multi_bytes = sum(os.path.getsize(f) for f in model_files(os.path.join(models, multi)))
    origin = Server(binary, models, os.path.join(work, "cache-origin.log"),
                    ["--metrics_listen", "127.0.0.1:0"])
    metrics = re.search(r"metrics on (\S+)", origin.proc.stdout.readline()).group(1)
    caches = []
    try:
        tensor_bytes = file_bytes  # Headers are < 0.1% of a bench model.
        load = lambda addr, model=big: [ctl, "--server", addr, "load", model]
        warm = CacheDaemon(binary, origin.addr, os.path.join(work, "cache-warm"),
                           os.path.join(work, "cache-warm.log"))
        caches.append(warm)
        run_timed([ctl, "--server", warm.addr, "prefetch", big])
        run_timed(load(origin.addr))  # Warm-up: the origin's pools.
        got = {"origin": [], "warm": [], "cold": []}
        print("weightctl load from the origin, a warm cache, a cold cache ...",
              flush=True)
        for i in range(a.runs):
            got["origin"].append(tensor_bytes / run_load(load(origin.addr), True)[0] / GB)
            got["warm"].append(tensor_bytes / run_load(load(warm.addr), True)[0] / GB)
            cold = CacheDaemon(binary, origin.addr, os.path.join(work, "cache-cold"),
                               os.path.join(work, "cache-cold-%d.log" % i))
            try:
                got["cold"].append(tensor_bytes / run_load(load(cold.addr), True)[0] / GB)
            finally:
                cold.stop()
        for k, v in got.items():
            res["cache_%s_gbps" % k] = statistics.median(v)
            res["cache_%s_range" % k] = [min(v), max(v)]
        res["cache_warm_vs_origin"] = res["cache_warm_gbps"] / res["cache_origin_gbps"]
        res["cache_cold_vs_origin"] = res["cache_cold_gbps"] / res["cache_origin_gbps"]

        print("8 clients at once through a cold cache ...", flush=True)
        before = origin_readbytes(metrics, multi)  # The cache's headers included.
        cold = CacheDaemon(binary, origin.addr, os.path.join(work, "cache-8"),
                           os.path.join(work, "cache-8.log"))
        caches.append(cold)
        procs = [subprocess.Popen(load(cold.addr, multi), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True) for _ in range(8)]
        failed = [p.communicate()[1] for p in procs if p.wait() != 0]
        if failed:
            raise RuntimeError("a client of the cold cache failed: %s" % failed[0])
        res["cache_8_clients_origin_bytes"] = origin_readbytes(metrics, multi) - before
        res["cache_8_clients_model_bytes"] = multi_bytes
        res["cache_8_clients_origin_ratio"] = (res["cache_8_clients_origin_bytes"]
                                               / multi_bytes)

        print("prefetch through one cold cache, then three at once ...", flush=True)
        one = CacheDaemon(binary, origin.addr, os.path.join(work, "cache-one"),
                          os.path.join(work, "cache-one.log"))
        try:
            t1 = run_timed([ctl, "--server", one.addr, "prefetch", big])[0]
        finally:
            one.stop()
        before = origin_readbytes(metrics, big)
        three = [CacheDaemon(binary, origin.addr, os.path.join(work, "cache-3-%d" % i),
                             os.path.join(work, "cache-3-%d.log" % i)) for i in range(3)]
        caches += three
        start = time.monotonic()
        procs = [subprocess.Popen([ctl, "--server", c.addr, "prefetch", big],
                                  stdout=subprocess.DEVNULL) for c in three]
        for p in procs:
            if p.wait() != 0:
                raise RuntimeError("prefetch through a cache failed")
        t3 = time.monotonic() - start
        origin3 = origin_readbytes(metrics, big) - before
        link = file_bytes / t1 / GB
        res["cache_sim_check"] = {"size": file_bytes, "one_cache_s": t1, "link_gbs": link,
                                  "three_caches_s": t3, "origin_bytes": origin3}
        spec = "%d,3,%.4f,%.4f,%d" % (file_bytes, link, t3, origin3)
        out = subprocess.run(["python3", os.path.join(HERE, "rollout_sim.py"),
                              "--block-mib", "8", "--check", spec],
                             capture_output=True, text=True, check=True)
        res["cache_sim_check_table"] = out.stdout.strip()
    finally:
        for c in caches:
            if c.proc.poll() is None:
                c.stop()
        res["cache_origin_exit"] = origin.stop()


def print_cache(res):
    print("\ncache tier (loopback; origin, cache and client share this machine's CPUs)")
    for k, what in (("origin", "weightctl load from the origin"),
                    ("warm", "weightctl load from a warm cache"),
                    ("cold", "weightctl load through a cold cache")):
        lo, hi = res["cache_%s_range" % k]
        print("  %-44s %6.2f GB/s (%.2f-%.2f)" % (what, res["cache_%s_gbps" % k], lo, hi))
    print("  %-44s %6.2fx  (goal >= 0.95)" % ("warm cache / origin",
                                             res["cache_warm_vs_origin"]))
    print("  %-44s %6.2fx  (goal >= 0.8)" % ("cold cache / origin",
                                            res["cache_cold_vs_origin"]))
    print("  %-44s %6.4fx  (goal <= 1.02; %d of %d bytes)" % (
        "origin bytes / model, 8 cold clients", res["cache_8_clients_origin_ratio"],
        res["cache_8_clients_origin_bytes"], res["cache_8_clients_model_bytes"]))
    c = res["cache_sim_check"]
    print("  prefetch through one cold cache: %.2f s (%.2f GB/s: the 'link');"
          " three at once: %.2f s" % (c["one_cache_s"], c["link_gbs"], c["three_caches_s"]))
    print("  " + res["cache_sim_check_table"].replace("\n", "\n  "))
