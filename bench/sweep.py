# Copyright 2026 The Weightserver Authors.
#
# bench/sweep.py: `weightctl load` over a grid of --connections x --streams
# (run_bench.py --phases sweep; in the full run too): GB/s (the time
# weightctl reports: from the first Fetch to the last tensor verified in
# fresh memory), and CPU seconds per GB of the client (rusage of the
# weightctl process) and of the server (/proc of the daemon, before and
# after), as the main load row measures them. The grid's points are
# alternated within each round, so the machine's noise is shared; medians
# over --runs.
import os
import re
import statistics

from common import GB, Server, cpu_seconds, model_tensor_bytes, run_timed


def parse_list(text):
    return [int(x) for x in text.split(",") if x]


def bench_sweep(a, build, models, big, work, res):
    """Adds res["sweep"]: one dict per (connections, streams) point."""
    ctl = os.path.join(build, "cli", "weightctl")
    grid = [(c, s) for c in parse_list(a.sweep_connections)
            for s in parse_list(a.sweep_streams)]
    server = Server(os.path.join(build, "server", "weightserver"), models,
                    os.path.join(work, "server-sweep.log"))
    try:
        tensor_bytes = model_tensor_bytes(ctl, server.addr, big)
        cmd = {p: [ctl, "--server", server.addr, "--connections", str(p[0]),
                   "--streams", str(p[1]), "load", big] for p in grid}
        run_timed(cmd[grid[-1]])  # Warm-up: the server's pools.
        got = {p: {"gbps": [], "scpu": [], "ccpu": []} for p in grid}
        print("sweep: %d rounds of connections x streams %s ..." % (a.runs, grid), flush=True)
        for _ in range(a.runs):
            for p in grid:
                s0 = cpu_seconds(server.pid)
                _, cpu, text = run_timed(cmd[p])
                s1 = cpu_seconds(server.pid)
                m = re.search(r"loaded \d+ tensors?, .* in ([\d.]+) s", text)
                if not m:
                    raise RuntimeError("sweep: weightctl load: unexpected output: " + text)
                got[p]["gbps"].append(tensor_bytes / float(m.group(1)) / GB)
                got[p]["scpu"].append((s1 - s0) / (tensor_bytes / GB))
                got[p]["ccpu"].append(cpu / (tensor_bytes / GB))
    finally:
        res["sweep_server_exit"] = server.stop()
    res["sweep"] = [{"connections": c, "streams": s,
                     "gbps": statistics.median(got[(c, s)]["gbps"]),
                     "min_gbps": min(got[(c, s)]["gbps"]),
                     "max_gbps": max(got[(c, s)]["gbps"]),
                     "server_cpu_s_per_gb": statistics.median(got[(c, s)]["scpu"]),
                     "client_cpu_s_per_gb": statistics.median(got[(c, s)]["ccpu"])}
                    for c, s in grid]


def print_sweep(r):
    print("\nSweep: weightctl load, %.2f GiB model into fresh memory, median of %d "
          "(min-max), %d cores" % (r["size_gib"], r["runs"], r["nproc"]))
    fmt = "%-12s %-8s %-11s %-11s %-16s %s"
    print(fmt % ("connections", "streams", "GB/s", "min-max", "server CPU/GB",
                 "client CPU/GB (goal <= 0.5)"))
    print("-" * 90)
    for p in r["sweep"]:
        print(fmt % (p["connections"], p["streams"], "%.2f" % p["gbps"],
                     "%.2f-%.2f" % (p["min_gbps"], p["max_gbps"]),
                     "%.3f core-s" % p["server_cpu_s_per_gb"],
                     "%.3f core-s" % p["client_cpu_s_per_gb"]))
