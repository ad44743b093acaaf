#!/usr/bin/env python3
# Copyright 2026 The Weightserver Authors.
"""bench/rollout_sim.py: a fluid model of rolling one model out to a GPU fleet.

  python3 bench/rollout_sim.py                 # defaults: 400 GB, 1,000 x 8 GPUs, 100 Gbit/s
  python3 bench/rollout_sim.py --nodes 64 --zones 4 --size-gb 140
  python3 bench/rollout_sim.py --check SIZE_BYTES,CACHES,LINK_GBS,MEASURED_SECONDS,ORIGIN_BYTES[,flat|chain]
  python3 bench/rollout_sim.py --self-test

A model of S bytes reaches N nodes of G GPU workers each; every node and
every server (origin replica, zone cache) has one NIC of L Gbit/s. Four ways:
  (a) origin only: every worker fetches S from the origin's R replicas;
  (b) 1-level tree: origin -> one node cache per node -> its G workers;
  (c) 2-level tree: origin -> Z zone caches -> ceil(N/Z) node caches each;
  (d) swarm bound: a pipelined peer-to-peer swarm (Dragonfly-like), where
      every node uploads what it has; the lower bound of that design.
Per way: the origin's egress bytes, the time until the last node holds S,
and the time until the last worker holds S, (streaming) reading the node
cache while it fills, and (after prefetch) starting once the node is warm,
as docs/cache_tier.md's recipe does.

The model (fluid, steady rates, no protocol overhead, no failures):
  - a server with egress E serving k concurrent children gives each E/k,
    capped by the child's own ingress (one NIC, L, full duplex: a cache
    receives and sends at L at once); the origin's R replicas
    act as one server of egress R*L (connections spread evenly);
  - caches forward bytes as they arrive (pipelined), so a chain of hops of
    rates r_1..r_h delivers S in (S - b)/min(r) + sum(b/r_i): the slowest
    hop's time plus the fill of one block b per hop;
  - a tree of fan-out k is limited by each cache's egress: k children share
    one link, so a full-fleet rollout through it takes about k single-copy
    times (S/L); a swarm approaches one copy time, bounded below by
    max(S/L, S/(R*L), N*S/(R*L + N*L)) (every node receives S at most at L,
    the origin sends at least one copy, all uploads together carry N*S),
    plus ceil(log2 N) blocks of pipeline fill; its origin egress is >= S;
  - on a node, the G workers read the local cache (loopback, page cache or
    local disk) at min(--local-gbs, --node-local-gbs / G) each; in (a) they
    share the node's NIC instead (L/G each) and the origin's E/(N*G);
  - disks keep up with the links (a cache writes at least L), the origin's
    storage keeps up with its NICs, and all fetches start at once.
GB is 1e9 bytes; Gbit/s is 1e9 bits per second; the block is MiB (2^20).

--check puts one small real run (bench/cache_bench.py, loopback) next to the
model: CACHES caches pulling SIZE_BYTES from one origin at once ("flat", the
default: (b) with R = 1 and N = CACHES), or each cache the upstream of the
next ("chain"); LINK_GBS is the rate (GB/s) one server sends at, measured in
the same run; it prints the predicted time and origin bytes next to the
measured ones, and their ratios.
"""
import argparse
import math
import sys

GB = 1e9
MIB = 1 << 20


def fmt_time(seconds):
    if seconds < 100:
        return "%.1f s" % seconds
    if seconds < 6000:
        return "%.1f min" % (seconds / 60)
    return "%.1f h" % (seconds / 3600)


def fmt_bytes(n):
    for unit, scale in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= scale:
            return "%.3g %s" % (n / scale, unit)
    return "%d B" % n


def chain_time(size, rates, block):
    """Pipelined delivery of size bytes over hops of rates (bytes/s)."""
    block = min(block, size)
    return (size - block) / min(rates) + sum(block / r for r in rates)


def share(egress, children, ingress):
    """Each child's rate when children share egress, capped by its ingress."""
    return min(egress / children, ingress)


class Fleet:
    """The inputs, in bytes and bytes per second."""

    def __init__(self, size_gb=400, nodes=1000, gpus_per_node=8, link_gbit=100,
                 origin_replicas=4, zones=20, block_mib=16, local_gbs=2.0,
                 node_local_gbs=20.0):
        self.size = size_gb * GB
        self.nodes = nodes
        self.gpus = gpus_per_node
        self.link = link_gbit * 1e9 / 8
        self.replicas = origin_replicas
        self.zones = min(zones, nodes)
        self.block = block_mib * MIB
        self.local = min(local_gbs * GB, node_local_gbs * GB / gpus_per_node)

    def single_copy(self):
        return self.size / self.link

    def origin_egress(self):
        return self.replicas * self.link


def with_workers(fleet, name, origin_bytes, node_rates):
    """A row: the chain of node_rates to a node cache, then the local read."""
    s, b = fleet.size, fleet.block
    node = chain_time(s, node_rates, b)
    return {
        "name": name,
        "origin_bytes": origin_bytes,
        "node_rate": min(node_rates),
        "node": node,
        "workers_streaming": chain_time(s, node_rates + [fleet.local], b),
        "workers_prefetched": node + s / fleet.local,
    }


def origin_only(f):
    workers = f.nodes * f.gpus
    # Each worker: its share of the origin, and of its node's NIC.
    rate = min(f.origin_egress() / workers, f.link / f.gpus)
    t = chain_time(f.size, [rate], f.block)
    return {"name": "(a) origin only, R=%d" % f.replicas, "origin_bytes": workers * f.size,
            "node_rate": rate * f.gpus, "node": t, "workers_streaming": t,
            "workers_prefetched": t}


def one_level(f):
    rate = share(f.origin_egress(), f.nodes, f.link)
    return with_workers(f, "(b) origin -> node caches", f.nodes * f.size, [rate])


def two_level(f):
    zone_in = share(f.origin_egress(), f.zones, f.link)
    node_in = share(f.link, math.ceil(f.nodes / f.zones), f.link)
    return with_workers(f, "(c) origin -> %d zone caches -> node caches" % f.zones,
                        f.zones * f.size, [zone_in, node_in])


def swarm(f):
    s, n, e, l = f.size, f.nodes, f.origin_egress(), f.link
    bound = max(s / l, s / e, n * s / (e + n * l))
    fill = math.ceil(math.log2(max(n, 2))) * min(f.block, s) / l
    node = bound + fill
    return {"name": "(d) swarm bound (Dragonfly-like)", "origin_bytes": s,
            "node_rate": s / bound, "node": node,
            "workers_streaming": max(node, s / f.local) + min(f.block, s) / f.local,
            "workers_prefetched": node + s / f.local}


def scenarios(f):
    return [origin_only(f), one_level(f), two_level(f), swarm(f)]


def assumptions(f):
    return [
        "model %s; %d nodes x %d GPU workers = %d workers; every NIC %.0f Gbit/s (%.1f GB/s)"
        % (fmt_bytes(f.size), f.nodes, f.gpus, f.nodes * f.gpus, f.link * 8 / 1e9, f.link / GB),
        "origin: %d replicas x 1 NIC = %.1f GB/s egress; %d zone caches in (c), %d node "
        "caches per zone cache" % (f.replicas, f.origin_egress() / GB, f.zones,
                                   math.ceil(f.nodes / f.zones)),
        "single copy S/L = %s; pipeline block %d MiB" % (fmt_time(f.single_copy()), f.block // MIB),
        "a server's egress is shared equally by its concurrent children, each capped by its "
        "own NIC (full duplex); caches forward as bytes arrive",
        "workers read their node's cache at %.2f GB/s each; in (a) they share the origin "
        "and their node's NIC" % (f.local / GB),
        "disks and the origin's storage keep up; no protocol overhead; all fetches start at once",
        "(d) is a lower bound: max(S/L, S/(R*L), N*S/(R*L+N*L)) + ceil(log2 N) blocks of fill",
    ]


def table(rows):
    out = ["| scenario | origin egress | per-node rate | last node has it | "
           "every worker (streaming) | every worker (after prefetch) |",
           "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        out.append("| %s | %s | %.3g GB/s | %s | %s | %s |" % (
            r["name"], fmt_bytes(r["origin_bytes"]), r["node_rate"] / GB, fmt_time(r["node"]),
            fmt_time(r["workers_streaming"]), fmt_time(r["workers_prefetched"])))
    return "\n".join(out)


def predict_measured(size, caches, link_gbs, topology="flat", block=16 * MIB):
    """(seconds, origin bytes) the model predicts for a small real run."""
    link = link_gbs * GB
    if topology == "flat":
        return chain_time(size, [share(link, caches, link)], block), caches * size
    if topology == "chain":
        return chain_time(size, [link] * caches, block), size
    raise ValueError("topology %r: flat or chain" % topology)


def check_measured(spec, block):
    fields = spec.split(",")
    if len(fields) not in (5, 6):
        raise ValueError("--check SIZE_BYTES,CACHES,LINK_GBS,MEASURED_SECONDS,ORIGIN_BYTES"
                         "[,flat|chain], got %r" % spec)
    size, caches = int(float(fields[0])), int(fields[1])
    link_gbs, seconds, origin = float(fields[2]), float(fields[3]), int(float(fields[4]))
    topology = fields[5] if len(fields) == 6 else "flat"
    if size <= 0 or caches <= 0 or link_gbs <= 0 or seconds <= 0 or origin <= 0:
        raise ValueError("--check %s: every number must be positive" % spec)
    t, bytes_ = predict_measured(size, caches, link_gbs, topology, block)
    print("check: %s to %d caches (%s) at %.3g GB/s per link, %d MiB blocks"
          % (fmt_bytes(size), caches, topology, link_gbs, block // MIB))
    print("| | model | measured | measured / model |")
    print("|---|---:|---:|---:|")
    print("| last cache done | %.3f s | %.3f s | %.2f |" % (t, seconds, seconds / t))
    print("| origin bytes | %d | %d | %.3f |" % (bytes_, origin, origin / bytes_))


def self_test():
    f = Fleet()
    close = lambda a, b: abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1)
    assert close(f.single_copy(), 32.0), f.single_copy()
    a, b, c, d = scenarios(f)
    assert close(a["origin_bytes"], 3.2e15) and close(b["origin_bytes"], 4e14)
    assert close(c["origin_bytes"], 8e12) and close(d["origin_bytes"], 4e11)
    # (a): 8,000 workers share 50 GB/s: 6.25 MB/s each, 64,000 s.
    assert close(a["node"], 64000.0), a["node"]
    # (b): 1,000 caches share 50 GB/s: 8,000 s (+ nothing: one hop).
    assert close(b["node"], 8000.0), b["node"]
    # (c): fan-out 50 under one zone cache: 50 single copies plus two blocks' fill.
    assert 50 * 32 < c["node"] < 50 * 32 + 1, c["node"]
    # (d): about one copy time.
    assert 32 <= d["node"] < 32.1, d["node"]
    for r in (a, b, c, d):
        assert r["node"] <= r["workers_streaming"] <= r["workers_prefetched"] + 1e-9, r
        assert r["node"] >= d["node"] - 1e-9, r
    # Monotone: more nodes never faster, faster links never slower.
    for fn in (origin_only, one_level, two_level, swarm):
        times = [fn(Fleet(nodes=n))["node"] for n in (1, 10, 100, 1000, 10000)]
        assert times == sorted(times), (fn.__name__, times)
        times = [fn(Fleet(link_gbit=g))["node"] for g in (400, 200, 100, 25)]
        assert times == sorted(times), (fn.__name__, times)
    # One node, one zone: every tree is one or two copies; pipelining is exact.
    assert close(one_level(Fleet(nodes=1))["node"], 32.0)
    assert close(chain_time(100.0, [1.0, 1.0, 1.0], 1.0), 102.0)
    # The check's model: one cache from the origin is one copy; flat is k copies.
    assert close(predict_measured(4e9, 1, 2.0)[0], 2.0)
    assert close(predict_measured(4e9, 4, 2.0)[0], 8.0)
    assert predict_measured(4e9, 4, 2.0, "chain")[1] == 4e9
    print("rollout_sim self-test: OK")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-gb", type=float, default=400, help="model bytes / 1e9")
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--gpus-per-node", type=int, default=8)
    ap.add_argument("--link-gbit", type=float, default=100, help="every NIC, Gbit/s")
    ap.add_argument("--origin-replicas", type=int, default=4)
    ap.add_argument("--zones", type=int, default=20, help="zone caches in (c)")
    ap.add_argument("--block-mib", type=int, default=16, help="pipeline block")
    ap.add_argument("--local-gbs", type=float, default=2.0,
                    help="one worker's read rate from its node cache, GB/s")
    ap.add_argument("--node-local-gbs", type=float, default=20.0,
                    help="all workers of a node together, GB/s")
    ap.add_argument("--check", metavar="SIZE_BYTES,CACHES,LINK_GBS,MEASURED_SECONDS,"
                    "ORIGIN_BYTES[,flat|chain]",
                    help="a small real run's numbers next to the model's")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args()
    if a.self_test:
        self_test()
        return 0
    if a.check:
        try:
            check_measured(a.check, a.block_mib * MIB)
        except ValueError as e:
            ap.error(str(e))
        return 0
    for name in ("size_gb", "nodes", "gpus_per_node", "link_gbit", "origin_replicas", "zones",
                 "block_mib", "local_gbs", "node_local_gbs"):
        if getattr(a, name) <= 0:
            ap.error("--%s must be positive" % name.replace("_", "-"))
    f = Fleet(a.size_gb, a.nodes, a.gpus_per_node, a.link_gbit, a.origin_replicas, a.zones,
              a.block_mib, a.local_gbs, a.node_local_gbs)
    print("Assumptions (bench/rollout_sim.py, a fluid model):")
    for line in assumptions(f):
        print("- " + line)
    print()
    print(table(scenarios(f)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
