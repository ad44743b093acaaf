#!/usr/bin/env python3
# Copyright 2026 The Weightserver Authors.
#
# bench/run_bench.py: Weightserver side by side with its peers, in one run.
#
#   python3 bench/run_bench.py [--build build] [--size-gib 2] [--runs 3]
#   python3 bench/run_bench.py --smoke      # ~10 s version, run by CTest
#   python3 bench/run_bench.py --phases tls [--size-gib 1 --runs 3]  # 9. only
#   python3 bench/run_bench.py --phases peers [--size-gib 1 --runs 5] # 10. only
#   python3 bench/run_bench.py --phases sweep [--size-gib 1 --runs 5] # 11. only
#   python3 bench/run_bench.py --phases metrics [--size-gib 1 --runs 5] # 12. only
#   python3 bench/run_bench.py --phases rescan [--rescan-models 1000]   # 13. only
#   python3 bench/run_bench.py --phases cache [--size-gib 1 --runs 3]   # 14. only
#
# On loopback, with the page cache warm, it measures
#   1. iperf3, one TCP stream: the ceiling for one connection;
#   2. nginx (sendfile, bench/nginx.conf.in) + curl fetching the model files;
#   3. `weightctl load` (into host memory, every chunk's CRC32C verified);
#   4. CPU seconds per GB of the server (/proc) and of the client (rusage);
#      and the same load into memory allocated once and reused (ws_bench
#      --mode reload: an engine's buffers), which leaves out the zeroing of
#      fresh pages that a load into new memory pays; the ceiling of that:
#      memset of freshly mapped memory (huge pages and 4 KiB pages), and a
#      load into a fresh arena with and without a thread that faults it
#      ahead of the stream;
#   5. time to first tensor: new connection + GetModel + one small tensor;
#   6. N clients loading a model at once: aggregate GB/s, and the server's
#      memory growth (RssAnon + RssShmem: RSS minus mapped file pages);
#   7. GetModel of a 100,000-tensor model;
#   8. tensor parallelism: one rank's column-shard load (bytes on the wire,
#      from the loopback interface counters, against the shard's own size),
#      and --world ranks loading their shards at once against one full load,
#      with the ranks' and the server's CPU and the least time that CPU
#      takes on this machine's cores (the ranks are CPU-bound when near it);
#   9. TLS (certificates from scripts/dev-pki.sh, under --out/pki): a
#      plaintext and a TLS daemon side by side, `weightctl load` alternated
#      between them (GB/s and server/client CPU per GB of each, so TLS is
#      compared with plaintext of the same run), and time to first tensor
#      over a fresh connection: plaintext, and mutual TLS (a third daemon
#      with --tls_client_ca; the handshake is in the time);
#  10. peers (bench/peers.py): weightctl load, ws.load (numpy, torch),
#      Tensorizer over HTTP from nginx (plain and verify_hash), the Run:ai
#      model streamer from the local files, and curl into tmpfs +
#      safetensors.torch.load_file, each into fresh CPU memory in its own
#      process, alternated; the Python peers are pip-installed from PyPI
#      into BUILD/python-venv (or --venv), and their versions printed;
#  11. sweep (bench/sweep.py): weightctl load over --sweep-connections x
#      --sweep-streams, GB/s and server / client CPU per GB;
#  12. metrics (bench/metrics_ab.py): a daemon with --metrics_listen and a
#      JSON access log against one without, weightctl load alternated: GB/s
#      and server CPU per GB of each (goal: on >= 0.98x off).
#  13. rescan (bench/rescan.py): a live repository of --rescan-models small
#      models: a rescan with nothing changed and one with every file
#      touched, and a client's time to first tensor (p50, p99) idle and
#      during back-to-back full rescans.
#  14. cache (bench/cache_bench.py): `weightctl load` from the origin, from a
#      warm cache and through a cold one, alternated; the origin's bytes for
#      8 clients of one cold cache; prefetch through one and three cold
#      caches against bench/rollout_sim.py's prediction.
# Medians over --runs; ratios are to peers measured in the same run, so the
# machine's noise cancels. Prints a table, writes results.json and bench.png
# (gnuplot; peers.png for 10.) under --out.
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import (GB, MemorySampler, Nginx, Server, anon_rss,  # noqa: E402
                    children_cpu_seconds, cpu_seconds, free_port, loopback_bytes,
                    make_model, model_files, run_timed, warm)
from peers import bench_peers, plot_peers, print_peers  # noqa: E402
from sweep import bench_sweep, print_sweep  # noqa: E402
from metrics_ab import bench_metrics, print_metrics  # noqa: E402
from rescan import bench_rescan, print_rescan  # noqa: E402
from cache_bench import bench_cache, print_cache  # noqa: E402

def bench_iperf3(runs, seconds):
    out = []
    for _ in range(runs):
        port = free_port()
        srv = subprocess.Popen(["iperf3", "-s", "-p", str(port)],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.5)  # A probe connection would count as a test.
            r = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port),
                                "-t", str(seconds), "-J"], capture_output=True,
                               text=True, check=True)
        finally:
            srv.terminate()
            srv.wait(timeout=30)
        out.append(json.loads(r.stdout)["end"]["sum_received"]["bits_per_second"] / 8 / GB)
    return statistics.median(out)


def bench_nginx(runs, root, files, work):
    with Nginx(root, work) as web:
        total = sum(os.path.getsize(f) for f in files)
        cmd = ["curl", "-s", "--fail"]
        for f in files:
            cmd += ["-o", "/dev/null", web.url(root, f)]
        rates = []
        for _ in range(runs):
            wall, _, _ = run_timed(cmd)
            rates.append(total / wall / GB)
        return statistics.median(rates)


def bench_tls(a, build, models, big, work, res):
    """Phase 9: load over TLS against plaintext, alternated in one run, and
    time to first tensor over a fresh mutual-TLS connection; adds tls_* and
    mtls_* keys to res."""
    here = os.path.dirname(os.path.abspath(__file__))
    pki = os.path.join(os.path.dirname(work), "pki")
    subprocess.run(["bash", os.path.join(here, "..", "scripts", "dev-pki.sh"), pki],
                   check=True, stdout=subprocess.DEVNULL)
    binary = os.path.join(build, "server", "weightserver")
    ctl = os.path.join(build, "cli", "weightctl")
    wsb = os.path.join(build, "bench", "ws_bench")
    cert = ["--tls_cert", os.path.join(pki, "tls.crt"),
            "--tls_key", os.path.join(pki, "tls.key")]
    ca = os.path.join(pki, "ca.crt")
    streams = ["--streams", str(a.streams)] if a.streams else []
    servers = {}
    try:
        servers["plain"] = Server(binary, models, os.path.join(work, "server-plain.log"))
        servers["tls"] = Server(binary, models, os.path.join(work, "server-tls.log"), cert)
        tls_flags = {"plain": [], "tls": ["--tls-ca", ca]}
        load = {k: [ctl, "--server", s.addr] + streams + tls_flags[k] + ["load", big]
                for k, s in servers.items()}
        tensor_bytes = sum(t["length"] for t in json.loads(subprocess.run(
            [ctl, "--server", servers["plain"].addr, "inspect", big, "--json"],
            capture_output=True, text=True, check=True).stdout)["tensors"])
        for k in servers:
            run_timed(load[k])  # Warm-up: server pools, the session.
        got = {k: {"gbps": [], "scpu": [], "ccpu": []} for k in servers}
        print("weightctl load, plaintext and TLS alternated ...", flush=True)
        for _ in range(a.runs):
            for k, server in servers.items():
                s0 = cpu_seconds(server.pid)
                wall, cpu, _ = run_timed(load[k])
                s1 = cpu_seconds(server.pid)
                got[k]["gbps"].append(tensor_bytes / wall / GB)
                got[k]["scpu"].append((s1 - s0) / (tensor_bytes / GB))
                got[k]["ccpu"].append(cpu / (tensor_bytes / GB))
        for k in servers:
            res["%s_load_gbps" % k] = statistics.median(got[k]["gbps"])
            res["%s_server_cpu_s_per_gb" % k] = statistics.median(got[k]["scpu"])
            res["%s_client_cpu_s_per_gb" % k] = statistics.median(got[k]["ccpu"])
        res["tls_vs_plain"] = res["tls_load_gbps"] / res["plain_load_gbps"]
        n = "20" if a.smoke else "100"
        print("time to first tensor, fresh plaintext and mutual-TLS connections ...",
              flush=True)
        ft = json.loads(run_timed([wsb, "--server", servers["plain"].addr, "--mode",
                                   "first_tensor", "--model", big, "--n", n])[2])
        res["plain_first_tensor_ms"] = ft["median_ms"]
    finally:
        for k, server in servers.items():
            res["%s_server_exit" % k] = server.stop()
    mtls = Server(binary, models, os.path.join(work, "server-mtls.log"),
                  cert + ["--tls_client_ca", ca])
    try:
        ft = json.loads(run_timed([wsb, "--server", mtls.addr, "--mode", "first_tensor",
                                   "--model", big, "--n", n, "--tls_ca", ca,
                                   "--tls_cert", os.path.join(pki, "client.crt"),
                                   "--tls_key", os.path.join(pki, "client.key")])[2])
        res["mtls_first_tensor_ms"] = ft["median_ms"]
        res["mtls_first_tensor_p90_ms"] = ft["p90_ms"]
    finally:
        res["mtls_server_exit"] = mtls.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default=None, help="default BUILD/bench")
    ap.add_argument("--size-gib", type=float, default=2.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--multi-size-mib", type=int, default=512,
                    help="model loaded by each of the --clients at once "
                         "(each client holds it all in memory)")
    ap.add_argument("--many-tensors", type=int, default=100000)
    ap.add_argument("--streams", type=int, default=None)
    ap.add_argument("--world", type=int, default=8)
    ap.add_argument("--smoke", action="store_true",
                    help="tiny sizes, one run: checks the script works")
    ap.add_argument("--rescan-models", type=int, default=1000)
    ap.add_argument("--phases",
                    choices=("all", "tls", "peers", "sweep", "metrics", "rescan", "cache"),
                    default="all",
                    help="tls: only the TLS rows (9.), with their own "
                         "plaintext baseline; peers: only the peer table (10.); "
                         "sweep: only the connections x streams sweep (11.); "
                         "metrics: only metrics on against off (12.); "
                         "rescan: only the live repository's rescans (13.); "
                         "cache: only the cache tier (14.)")
    ap.add_argument("--venv", default=None,
                    help="the Python venv of the peers (default BUILD/python-venv; "
                         "made and completed from PyPI when needed)")
    ap.add_argument("--sweep-connections", default="1,2,4")
    ap.add_argument("--sweep-streams", default="2,4,8")
    a = ap.parse_args()
    if a.smoke:
        a.size_gib, a.runs, a.clients, a.multi_size_mib = 0.0625, 1, 4, 32
        a.many_tensors = 10000
        a.sweep_connections, a.sweep_streams = "1,2", "2,4"
        common.SETTLE_S = 0  # Seconds matter more than the memory's state here.
    build = os.path.abspath(a.build)
    out = os.path.abspath(a.out or os.path.join(build, "bench" + ("-smoke" if a.smoke else "")))
    work = os.path.join(out, "work")
    os.makedirs(work, exist_ok=True)
    models = os.path.join(out, "models")
    tools = os.path.join(build, "tools", "ws_make_model")
    ctl = os.path.join(build, "cli", "weightctl")
    wsb = os.path.join(build, "bench", "ws_bench")
    size_mib = int(a.size_gib * 1024)
    big = "bench-%dmib" % size_mib
    multi = "multi-%dmib" % a.multi_size_mib
    many = "many-%d" % a.many_tensors
    print("making models under %s ..." % models, flush=True)
    make_model(tools, os.path.join(models, big), size_mib)
    big_files = model_files(os.path.join(models, big))
    res = {"size_gib": a.size_gib, "runs": a.runs, "clients": a.clients,
           "multi_size_mib": a.multi_size_mib, "nproc": os.cpu_count()}
    if a.phases == "tls":
        warm(big_files)
        bench_tls(a, build, models, big, work, res)
        return finish(res, out, a.smoke)
    if a.phases == "peers":
        bench_peers(a, build, out, models, big, work, res)
        return finish(res, out, a.smoke)
    if a.phases == "sweep":
        warm(big_files)
        bench_sweep(a, build, models, big, work, res)
        return finish(res, out, a.smoke)
    if a.phases == "metrics":
        warm(big_files)
        bench_metrics(a, build, models, big, work, res)
        return finish(res, out, a.smoke)
    if a.phases == "rescan":
        bench_rescan(a, build, work, res)
        return finish(res, out, a.smoke)
    make_model(tools, os.path.join(models, multi), a.multi_size_mib)
    if a.phases == "cache":
        warm(big_files + model_files(os.path.join(models, multi)))
        bench_cache(a, build, models, big, multi, work, res)
        return finish(res, out, a.smoke)
    make_model(tools, os.path.join(models, many), 8, shards=1, tensors=a.many_tensors)
    warm(big_files + model_files(os.path.join(models, multi)))

    print("iperf3 ...", flush=True)
    res["iperf3_gbps"] = bench_iperf3(a.runs, 1 if a.smoke else 5)
    print("nginx + curl ...", flush=True)
    res["nginx_curl_gbps"] = bench_nginx(a.runs, models, big_files, work)

    server = Server(os.path.join(build, "server", "weightserver"), models,
                    os.path.join(work, "server.log"))
    try:
        streams = ["--streams", str(a.streams)] if a.streams else []
        load = [ctl, "--server", server.addr] + streams + ["load"]
        tensor_bytes = None
        run_timed(load + [big])  # Warm-up: connections, server pools.
        rates, scpu, ccpu = [], [], []
        print("weightctl load ...", flush=True)
        for _ in range(a.runs):
            s0 = cpu_seconds(server.pid)
            wall, cpu, text = run_timed(load + [big])
            s1 = cpu_seconds(server.pid)
            m = re.search(r"loaded \d+ tensors, .* in ([\d.]+) s", text)
            tensor_bytes = tensor_bytes or sum(
                t["length"] for t in json.loads(subprocess.run(
                    [ctl, "--server", server.addr, "inspect", big, "--json"],
                    capture_output=True, text=True, check=True).stdout)["tensors"])
            rates.append(tensor_bytes / wall / GB)
            scpu.append((s1 - s0) / (tensor_bytes / GB))
            ccpu.append(cpu / (tensor_bytes / GB))
        res["tensor_bytes"] = tensor_bytes
        res["load_gbps"] = statistics.median(rates)
        res["server_cpu_s_per_gb"] = statistics.median(scpu)
        res["client_cpu_s_per_gb"] = statistics.median(ccpu)

        # The same data path into memory that is allocated and touched once
        # (an engine's reused buffers): no zeroing of fresh pages.
        print("load into reused memory ...", flush=True)
        s0 = cpu_seconds(server.pid)
        rl = json.loads(run_timed([wsb, "--server", server.addr, "--mode", "reload",
                                   "--model", big, "--n", str(a.runs)])[2])
        s1 = cpu_seconds(server.pid)
        res["reload_gbps"] = rl["extra"] / (rl["median_ms"] / 1000) / GB
        res["reload_client_cpu_s_per_gb"] = rl["cpu_s_per_gb"]
        res["reload_server_cpu_s_per_gb"] = (s1 - s0) / (a.runs * rl["extra"] / GB)

        # Fresh memory: the first touch of new pages is the ceiling of a load
        # into new memory. memset of freshly mapped memory (transparent huge
        # pages, as the client's arenas ask for, and 4 KiB pages), and the
        # load into a fresh arena with and without a thread that faults the
        # arena ahead of the stream (MADV_POPULATE_WRITE), alternated A/B.
        print("fresh memory: memset and prefault ...", flush=True)
        mib = max(64, int(tensor_bytes / (1 << 20)))
        for pages in ("thp", "4k"):
            m = json.loads(run_timed([wsb, "--mode", "memset", "--pages", pages,
                                      "--mib", str(mib), "--n", str(a.runs)])[2])
            res["memset_%s_gbps" % pages] = m["extra"] / (m["median_ms"] / 1000) / GB
        fresh = {"none": [], "thread": []}
        for _ in range(a.runs):
            for pf in ("none", "thread"):
                f = json.loads(run_timed([wsb, "--server", server.addr, "--mode", "fresh",
                                          "--prefault", pf, "--model", big, "--n", "1"])[2])
                fresh[pf].append(f["extra"] / (f["median_ms"] / 1000) / GB)
        res["fresh_gbps"] = statistics.median(fresh["none"])
        res["fresh_prefault_gbps"] = statistics.median(fresh["thread"])

        print("time to first tensor ...", flush=True)
        ft = json.loads(run_timed([wsb, "--server", server.addr, "--mode",
                                   "first_tensor", "--model", big, "--n",
                                   "20" if a.smoke else "100"])[2])
        res["first_tensor_ms"] = ft["median_ms"]
        res["first_tensor_p90_ms"] = ft["p90_ms"]
        gm = json.loads(run_timed([wsb, "--server", server.addr, "--mode",
                                   "get_model", "--model", many, "--n",
                                   "5" if a.smoke else "20"])[2])
        res["get_model_ms"] = gm["median_ms"]
        res["get_model_tensors"] = gm["extra"]

        print("%d clients at once ..." % a.clients, flush=True)
        multi_bytes = sum(os.path.getsize(f) for f in model_files(os.path.join(models, multi)))
        one_rates, agg_rates, growth = [], [], []
        for _ in range(a.runs):
            wall, _, _ = run_timed(load + [multi])
            one_rates.append(multi_bytes / wall / GB)
            sampler = MemorySampler(server.pid)
            base = anon_rss(server.pid)
            sampler.start()
            t0 = time.perf_counter()
            procs = [subprocess.Popen(load + [multi], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True)
                     for _ in range(a.clients)]
            for p in procs:
                if p.wait() != 0:
                    raise RuntimeError("a client failed: " + p.stderr.read())
            wall = time.perf_counter() - t0
            sampler.stop_flag = True
            sampler.join()
            agg_rates.append(a.clients * multi_bytes / wall / GB)
            growth.append((sampler.peak - base) / (1 << 20))
        res["multi_one_client_gbps"] = statistics.median(one_rates)
        res["multi_aggregate_gbps"] = statistics.median(agg_rates)
        res["multi_server_growth_mib"] = max(growth)
        print("tensor parallel, %d ranks ..." % a.world, flush=True)
        tp = [wsb, "--server", server.addr, "--mode", "tp_load", "--model", big,
              "--world", str(a.world)]
        tp_box = 15 if a.smoke else 120  # Seconds before a run counts as stalled.
        ratios, together, tp_cpu = [], [], []
        # Time-boxed: a stalled run (a server bug) is reported, not waited for.
        for _ in range(a.runs):
            lo0 = loopback_bytes()
            try:
                _, _, text = run_timed(tp + ["--rank", "1"], timeout=tp_box / 2)
                ratios.append((loopback_bytes() - lo0) / json.loads(text)["extra"])
            except subprocess.TimeoutExpired:
                ratios.append(float("inf"))
            s0, c0 = cpu_seconds(server.pid), children_cpu_seconds()
            t0 = time.perf_counter()
            procs = [subprocess.Popen(tp + ["--rank", str(r)], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True)
                     for r in range(a.world)]
            stalled = False
            for p in procs:
                try:
                    if p.wait(timeout=max(1.0, tp_box - (time.perf_counter() - t0))) != 0:
                        raise RuntimeError("a rank failed: " + p.stderr.read())
                except subprocess.TimeoutExpired:
                    stalled = True
                    p.kill()
                    p.wait()  # Reaped here: its CPU counts in this run.
            together.append(float("inf") if stalled else time.perf_counter() - t0)
            tp_cpu.append((children_cpu_seconds() - c0, cpu_seconds(server.pid) - s0))
        res["tp_wire_over_shard"] = statistics.median(ratios)
        res["tp_all_ranks_s"] = statistics.median(together)
        res["tp_stalled_runs"] = sum(1 for t in together if t == float("inf"))
        res["full_load_s"] = tensor_bytes / GB / res["load_gbps"]
        # Where the time goes: the ranks' and the server's CPU against one
        # full load's. Once the ranks keep every core busy, no schedule of
        # them ends before (their CPU + the server's) / cores.
        res["tp_clients_cpu_s"] = statistics.median(c for c, _ in tp_cpu)
        res["tp_server_cpu_s"] = statistics.median(s for _, s in tp_cpu)
        res["tp_cpu_bound_s"] = statistics.median(
            (c + s) / res["nproc"] for c, s in tp_cpu)
    finally:
        res["server_exit"] = server.stop()

    res["load_vs_iperf3"] = res["load_gbps"] / res["iperf3_gbps"]
    res["load_vs_nginx"] = res["load_gbps"] / res["nginx_curl_gbps"]
    res["multi_vs_one"] = res["multi_aggregate_gbps"] / res["multi_one_client_gbps"]
    print("TLS ...", flush=True)
    bench_tls(a, build, models, big, work, res)
    print("sweep ...", flush=True)
    bench_sweep(a, build, models, big, work, res)
    print("metrics on / off ...", flush=True)
    bench_metrics(a, build, models, big, work, res)
    print("rescans ...", flush=True)
    bench_rescan(a, build, work, res)
    print("cache tier ...", flush=True)
    bench_cache(a, build, models, big, multi, work, res)
    print("peers ...", flush=True)
    bench_peers(a, build, out, models, big, work, res)
    return finish(res, out, a.smoke)


def finish(res, out, smoke):
    """Writes results.json, prints the table (and the chart); the exit
    status: 1 when a daemon did not exit 0 on SIGTERM or a run stalled."""
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({k: (None if v == float("inf") else v) for k, v in res.items()}, f, indent=2)
    if "load_gbps" in res or "tls_load_gbps" in res:
        print_table(res)
    if "sweep" in res:
        print_sweep(res)
    if "metrics_on_vs_off" in res:
        print_metrics(res)
    if "rescan_models" in res:
        print_rescan(res)
    if "cache_warm_gbps" in res:
        print_cache(res)
    if "peers_weightctl" in res:
        print_peers(res)
        plot_peers(res, out)
    if "load_gbps" in res:
        plot(res, out)
    rc = 0
    for k, v in res.items():
        if k.endswith("server_exit") and v != 0:
            print("weightserver (%s) exited %d on SIGTERM" % (k, v))
            rc = 1
    if res.get("tp_stalled_runs"):
        print("FAILED: %d tensor-parallel run(s) stalled (ranks still waiting "
              "after %d s)" % (res["tp_stalled_runs"], 15 if smoke else 120))
        rc = 1
    return rc


def tls_rows(r):
    return [
        ("weightctl load, plaintext (same run)", "%.2f GB/s" % r["plain_load_gbps"],
         "server / client CPU per GB %.3f / %.3f core-s" % (
             r["plain_server_cpu_s_per_gb"], r["plain_client_cpu_s_per_gb"])),
        ("weightctl load over TLS", "%.2f GB/s" % r["tls_load_gbps"],
         "%.2fx plaintext; goal >= 0.7" % r["tls_vs_plain"]),
        ("  TLS: server / client CPU per GB", "%.3f / %.3f" % (
            r["tls_server_cpu_s_per_gb"], r["tls_client_cpu_s_per_gb"]),
         "core-s; plaintext %.3f / %.3f" % (
             r["plain_server_cpu_s_per_gb"], r["plain_client_cpu_s_per_gb"])),
        ("first tensor, fresh mTLS connection", "%.2f ms" % r["mtls_first_tensor_ms"],
         "median (p90 %.2f ms), handshake included; plaintext %.2f ms" % (
             r["mtls_first_tensor_p90_ms"], r["plain_first_tensor_ms"])),
    ]


def print_table(r):
    if "load_gbps" not in r:  # --phases tls
        rows = tls_rows(r)
    else:
        rows = main_rows(r) + tls_rows(r)
    print("\n%-40s %-16s %s" % ("measure (%g GiB model, median of %d)" % (r["size_gib"], r["runs"]), "value", "ratio / goal"))
    print("-" * 90)
    for name, v, note in rows:
        print("%-40s %-16s %s" % (name, v, note))


def main_rows(r):
    return [
        ("iperf3, 1 TCP stream (ceiling)", "%.2f GB/s" % r["iperf3_gbps"], "1.00x iperf3"),
        ("nginx sendfile + curl", "%.2f GB/s" % r["nginx_curl_gbps"],
         "%.2fx iperf3" % (r["nginx_curl_gbps"] / r["iperf3_gbps"])),
        ("weightctl load (CRC verified)", "%.2f GB/s" % r["load_gbps"],
         "%.2fx iperf3, %.2fx nginx" % (r["load_vs_iperf3"], r["load_vs_nginx"])),
        ("server CPU per GB", "%.3f core-s" % r["server_cpu_s_per_gb"], "goal <= 0.35"),
        ("client CPU per GB", "%.3f core-s" % r["client_cpu_s_per_gb"],
         "goal <= 0.5; first touch alone (memset) %.3f in 4 KiB pages, %.3f in huge" % (
             1 / r["memset_4k_gbps"], 1 / r["memset_thp_gbps"])),
        ("load into reused memory (ws_bench)", "%.2f GB/s" % r["reload_gbps"],
         "%.2fx iperf3, %.2fx nginx" % (r["reload_gbps"] / r["iperf3_gbps"],
                                        r["reload_gbps"] / r["nginx_curl_gbps"])),
        ("  server / client CPU per GB", "%.3f / %.3f" % (
            r["reload_server_cpu_s_per_gb"], r["reload_client_cpu_s_per_gb"]),
         "core-s; goals <= 0.35 / 0.5"),
        ("memset, fresh memory, huge pages", "%.2f GB/s" % r["memset_thp_gbps"],
         "ceiling of a fresh load (%.2fx iperf3)" % (r["memset_thp_gbps"] / r["iperf3_gbps"])),
        ("memset, fresh memory, 4 KiB pages", "%.2f GB/s" % r["memset_4k_gbps"],
         "%.2fx iperf3" % (r["memset_4k_gbps"] / r["iperf3_gbps"])),
        ("load into a fresh arena (ws_bench)", "%.2f GB/s" % r["fresh_gbps"],
         "%.2fx iperf3" % (r["fresh_gbps"] / r["iperf3_gbps"])),
        ("  same, arena faulted ahead on a thread", "%.2f GB/s" % r["fresh_prefault_gbps"],
         "%.2fx iperf3, %.2fx without" % (r["fresh_prefault_gbps"] / r["iperf3_gbps"],
                                         r["fresh_prefault_gbps"] / r["fresh_gbps"])),
        ("time to first tensor (median)", "%.2f ms" % r["first_tensor_ms"],
         "p90 %.2f ms; goal <= 5" % r["first_tensor_p90_ms"]),
        ("%d clients at once (%d MiB model)" % (r["clients"], r["multi_size_mib"]),
         "%.2f GB/s" % r["multi_aggregate_gbps"],
         "%.2fx one client; goal >= 0.9" % r["multi_vs_one"]),
        ("server memory growth, %d clients" % r["clients"],
         "%.1f MiB" % r["multi_server_growth_mib"], "goal <= 64"),
        ("GetModel, %d tensors (median)" % r["get_model_tensors"],
         "%.2f ms" % r["get_model_ms"], "goal <= 50"),
        ("one TP rank (1/8 columns): wire / shard", "%.4f" % r["tp_wire_over_shard"],
         "goal <= 1.01"),
        ("8 TP ranks at once vs one full load", "%.2f s vs %.2f s" % (
            r["tp_all_ranks_s"], r["full_load_s"]),
         "%.2fx; goal <= 1; %d of %d runs stalled" % (
             r["tp_all_ranks_s"] / r["full_load_s"], r["tp_stalled_runs"],
             r["runs"])),
        ("  8 ranks' CPU: clients + server", "%.2f + %.2f core-s" % (
            r["tp_clients_cpu_s"], r["tp_server_cpu_s"]),
         "one full load %.2f + %.2f; on %d cores the ranks need >= %.2f s (%.2fx)" % (
             r["client_cpu_s_per_gb"] * r["tensor_bytes"] / GB,
             r["server_cpu_s_per_gb"] * r["tensor_bytes"] / GB, r["nproc"],
             r["tp_cpu_bound_s"], r["tp_cpu_bound_s"] / r["full_load_s"])),
    ]


def plot(r, out):
    if not shutil.which("gnuplot"):
        print("(gnuplot not found: no chart)")
        return
    data = os.path.join(out, "bench.dat")
    with open(data, "w") as f:
        f.write('"iperf3\\n1 TCP stream" %f\n' % r["iperf3_gbps"])
        f.write('"nginx sendfile\\n+ curl" %f\n' % r["nginx_curl_gbps"])
        f.write('"weightctl load\\n(verified)" %f\n' % r["load_gbps"])
        f.write('"load into\\nreused memory" %f\n' % r["reload_gbps"])
        f.write('"%d clients, aggregate\\n(%d MiB model)" %f\n' % (
            r["clients"], r["multi_size_mib"], r["multi_aggregate_gbps"]))
    png = os.path.join(out, "bench.png")
    script = """
set terminal pngcairo size 820,460 font "sans,11"
set bmargin 4
set output '%s'
set title "Loopback, page cache warm, %g GiB model, %d cores (median of %d runs)"
set ylabel "GB/s"
set style fill solid 0.8 border -1
set boxwidth 0.6
set yrange [0:*]
set grid ytics
unset key
plot '%s' using 0:2:xtic(1) with boxes lc rgb "#3a7bd5", \\
     '' using 0:2:(sprintf("%%.2f", $2)) with labels offset 0,1
""" % (png, r["size_gib"], r["nproc"], r["runs"], data)
    subprocess.run(["gnuplot"], input=script, text=True, check=False)
    print("chart: %s" % png)


if __name__ == "__main__":
    sys.exit(main())
