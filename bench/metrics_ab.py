# Copyright 2026 The Weightserver Authors.
#
# bench/metrics_ab.py: what the daemon's observability costs (run_bench.py
# --phases metrics; in the full run too). Two daemons on the same models:
# "off" (no --metrics_listen, no access log) and "on" (--metrics_listen,
# and the access log in JSON to a file), `weightctl load` alternated
# between them, A then B each round, so the machine's noise is shared;
# medians over --runs (at least 3 rounds). After each round the "on"
# daemon's /metrics is scraped, as Prometheus would, and must count the
# bytes loaded. Goal: on >= 0.98x off.
import os
import re
import statistics
import urllib.request

from common import GB, Server, cpu_seconds, model_tensor_bytes, run_timed


def scrape_sent_bytes(address, model):
    with urllib.request.urlopen("http://%s/metrics" % address, timeout=10) as r:
        text = r.read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith("weightserver_sent_bytes_total{") and \
                ('model="%s"' % model) in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def bench_metrics(a, build, models, big, work, res):
    """Adds metrics_{off,on}_load_gbps, *_server_cpu_s_per_gb and
    metrics_on_vs_off to res."""
    binary = os.path.join(build, "server", "weightserver")
    ctl = os.path.join(build, "cli", "weightctl")
    servers = {}
    try:
        servers["off"] = Server(binary, models, os.path.join(work, "server-metrics-off.log"))
        servers["on"] = Server(binary, models, os.path.join(work, "server-metrics-on.log"),
                               ["--metrics_listen", "127.0.0.1:0",
                                "--access_log", os.path.join(work, "access.log"),
                                "--log_format", "json"])
        line = servers["on"].proc.stdout.readline()
        m = re.search(r"metrics on (\S+)", line)
        if not m:
            raise RuntimeError("metrics: no 'metrics on' line: %r" % line)
        metrics_addr = m.group(1)
        tensor_bytes = model_tensor_bytes(ctl, servers["off"].addr, big)
        streams = ["--streams", str(a.streams)] if a.streams else []
        load = {k: [ctl, "--server", s.addr] + streams + ["load", big]
                for k, s in servers.items()}
        for k in servers:
            run_timed(load[k])  # Warm-up: the server's pools.
        got = {k: {"gbps": [], "scpu": []} for k in servers}
        rounds = max(3, a.runs)
        print("metrics: %d rounds of weightctl load, metrics off and on "
              "alternated ..." % rounds, flush=True)
        for i in range(rounds):
            # Alternate which goes first, too.
            for k in (("off", "on") if i % 2 == 0 else ("on", "off")):
                s0 = cpu_seconds(servers[k].pid)
                _, _, text = run_timed(load[k])
                s1 = cpu_seconds(servers[k].pid)
                m = re.search(r"loaded \d+ tensors?, .* in ([\d.]+) s", text)
                if not m:
                    raise RuntimeError("metrics: weightctl load: unexpected output: " + text)
                got[k]["gbps"].append(tensor_bytes / float(m.group(1)) / GB)
                got[k]["scpu"].append((s1 - s0) / (tensor_bytes / GB))
            sent = scrape_sent_bytes(metrics_addr, big)
            if sent != (i + 2) * tensor_bytes:  # The warm-up, and each round.
                raise RuntimeError("metrics: /metrics counts %d bytes of %s sent, "
                                   "not %d" % (sent, big, (i + 2) * tensor_bytes))
    finally:
        for k, server in servers.items():
            res["metrics_%s_server_exit" % k] = server.stop()
    for k in ("off", "on"):
        res["metrics_%s_load_gbps" % k] = statistics.median(got[k]["gbps"])
        res["metrics_%s_server_cpu_s_per_gb" % k] = statistics.median(got[k]["scpu"])
    res["metrics_on_vs_off"] = res["metrics_on_load_gbps"] / res["metrics_off_load_gbps"]
    res["metrics_rounds"] = rounds


def print_metrics(r):
    print("\nMetrics and access log on vs off: weightctl load, %.2f GiB model, median "
          "of %d alternated rounds" % (r["size_gib"], r["metrics_rounds"]))
    fmt = "%-34s %-12s %s"
    print(fmt % ("daemon", "GB/s", "server CPU per GB"))
    print("-" * 90)
    print(fmt % ("metrics off", "%.2f" % r["metrics_off_load_gbps"],
                 "%.3f core-s" % r["metrics_off_server_cpu_s_per_gb"]))
    print(fmt % ("metrics + JSON access log on", "%.2f" % r["metrics_on_load_gbps"],
                 "%.3f core-s; %.3fx off (goal >= 0.98)" % (
                     r["metrics_on_server_cpu_s_per_gb"], r["metrics_on_vs_off"])))
