# Copyright 2026 The Weightserver Authors.
"""bench/python_bench.py --smoke: the Python benchmark rows' script works
(tiny model, one run), and the GIL is released during a load."""
import json
import pathlib
import subprocess
import sys

from conftest import ROOT, server_binary


def test_python_bench_smoke(tmp_path):
    build = pathlib.Path(server_binary()).parents[1]
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "python_bench.py"), "--smoke",
                        "--build", str(build), "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-4000:]
    r = json.loads((tmp_path / "python_results.json").read_text())
    for k in ("weightctl_gbps", "np_gbps", "pt_gbps"):
        assert r[k] > 0, k
    # Smoke values only (other tests share the loopback counters and the two
    # cores): the figures come from full runs (docs/benchmarks.md).
    assert r["get_slice_wire_over_shard"] >= 1.0  # Every shard byte crossed.
    # A load holding the GIL would stop the ticking thread for all of it.
    assert r["gil_pause_over_load"] < 0.9, "a Python thread was held off for a whole load"
