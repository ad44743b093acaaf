# Copyright 2026 The Weightserver Authors.
"""The daemon's Prometheus metrics after a known workload through the SDK.

A server with --metrics_listen 127.0.0.1:0 (its second stdout line names the
bound port); loads of a one-tensor model with one stream (one Fetch each), a
ReadFile and a missing model; then the scrape, parsed with
prometheus_client's own parser, counts exactly that.
"""
import time
import urllib.request

import numpy as np
import pytest

import weightserver as ws

from conftest import Server

# Never skipped: tests/python/make_venv.sh installs prometheus_client.
from prometheus_client import parser as prometheus_parser  # noqa: E402

TENSOR_BYTES = 2 << 20
LOADS = 3
CONFIG = b'{"model_type": "llama"}'


@pytest.fixture(scope="module")
def metrics_server(tmp_path_factory):
    from safetensors.numpy import save_file
    repo = tmp_path_factory.mktemp("metrics-repo")
    (repo / "m").mkdir()
    save_file({"w": np.arange(TENSOR_BYTES, dtype=np.uint32).astype(np.uint8)},
              str(repo / "m" / "model.safetensors"))
    (repo / "m" / "config.json").write_bytes(CONFIG)
    s = Server(repo, ["--metrics_listen", "127.0.0.1:0"])
    line = s.proc.stdout.readline()
    assert line.startswith("weightserver: metrics on "), line
    s.metrics = line.strip().rsplit(" ", 1)[1]
    yield s
    s.stop()


def scrape(address: str):
    """{(name, frozenset(labels)): value} of every sample, and the families."""
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as r:
        text = r.read().decode()
    families = list(prometheus_parser.text_string_to_metric_families(text))
    samples = {}
    for family in families:
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples, {f.name: f.type for f in families}


def value(samples, name, **labels):
    """The sum of the samples named `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def test_counters_are_what_the_workload_did(metrics_server):
    uri = metrics_server.uri("m")
    for _ in range(LOADS):
        sd = ws.load(uri, "np", streams=1, connections=1)
        assert sd["w"].nbytes == TENSOR_BYTES
    assert ws.read_file(uri, "config.json") == CONFIG
    with pytest.raises(Exception):
        ws.load(metrics_server.uri("nosuch"), "np", streams=1, connections=1)

    # A stream is counted when it is done, just after its client saw the end.
    deadline = time.monotonic() + 10
    while True:
        samples, types = scrape(metrics_server.metrics)
        if (value(samples, "weightserver_calls_total", method="Fetch") >= LOADS and
                value(samples, "weightserver_calls_total", method="ReadFile") >= 1):
            break
        assert time.monotonic() < deadline, "the Fetch calls were not counted"
        time.sleep(0.02)

    # prometheus_client drops the _total of counter family names.
    assert types["weightserver_calls"] == "counter"
    assert types["weightserver_sent_bytes"] == "counter"
    assert types["weightserver_stream_duration_seconds"] == "histogram"
    assert types["weightserver_active_streams"] == "gauge"

    calls = lambda **l: value(samples, "weightserver_calls_total", **l)
    assert calls(method="Fetch", code="OK") == LOADS
    assert calls(method="Fetch") == LOADS
    assert calls(method="ReadFile", code="OK") == 1
    assert calls(method="GetModel", code="NOT_FOUND") == 1
    assert calls(method="GetModel", code="OK") >= LOADS
    assert value(samples, "weightserver_sent_bytes_total",
                 method="Fetch", model="m") == LOADS * TENSOR_BYTES
    assert value(samples, "weightserver_sent_bytes_total",
                 method="ReadFile", model="m") == len(CONFIG)
    assert value(samples, "weightserver_stream_duration_seconds_count",
                 method="Fetch") == LOADS
    assert value(samples, "weightserver_read_bytes_total") == LOADS * TENSOR_BYTES
    assert value(samples, "weightserver_active_streams") == 0
    assert value(samples, "weightserver_models", state="servable") == 1
    assert value(samples, "weightserver_stalled_streams_total") == 0
    # No label for a name a client asked for in vain.
    assert not any(dict(ls).get("model") == "nosuch" for (_, ls) in samples)
