#!/usr/bin/env python3
# Copyright 2026 The Weightserver Authors.
#
# bench/peer_load.py: one model load by one loader, in this fresh process;
# run by bench/peers.py (and python_bench.py) with the benchmark venv's
# Python, once per load, so every load starts with no memory of its own.
#
#   PY peer_load.py LOADER SOURCE...     # prints one JSON line
#   PY peer_load.py versions             # the loaders' versions, JSON
#   PY peer_load.py serialize OUT.tensors MODEL.safetensors...
#
# LOADER and SOURCE:
#   tensorizer URL           TensorDeserializer(URL, device="cpu")
#   tensorizer-verify URL    the same with verify_hash=True
#   runai FILE...            runai_model_streamer.SafetensorsStreamer
#                            .stream_files(FILES) (local files), every tensor
#   curl-safetensors DIR URL...   curl -o DIR/... URL... (DIR in tmpfs), then
#                            safetensors.torch.load_file of each file
#   ws-np URI, ws-pt URI     weightserver.load(URI, framework="np" / "pt")
#
# The JSON line: {"bytes": sum of the loaded tensors' nbytes, "tensors": how
# many, "seconds": wall time of the load, "cpu_s": CPU seconds of this
# process's threads and its reaped children over the same span, "late_s":
# how late past WS_BENCH_START_AT the load started}. The clock starts after
# the imports (torch, numpy, the loader's module) and WS_BENCH_START_AT (a
# time.time(), when the environment has it), and stops once
# every tensor is in this process's memory and its bytes have been counted:
# interpreter start-up, imports and freeing the tensors at exit are outside.
import json
import os
import resource
import subprocess
import sys
import time


def _cpu():
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def _start():
    """Called after the loader's imports: waits until WS_BENCH_START_AT (a
    time.time() the bench sets) when given, then returns (perf_counter,
    CPU seconds), the load's start. So every loader starts loading the same
    time after the previous load's process exited, however long its imports
    took (bench/common.py, SETTLE_S: why that matters on this VM)."""
    global _LATE_S
    at = os.environ.get("WS_BENCH_START_AT")
    if at is not None:
        delay = float(at) - time.time()
        if delay > 0:
            time.sleep(delay)
        _LATE_S = max(0.0, -delay)
    return time.perf_counter(), _cpu()


_LATE_S = 0.0  # How late past WS_BENCH_START_AT the load started.


def _nbytes(tensors):
    n = 0
    for t in tensors:
        n += t.nbytes if hasattr(t, "nbytes") else t.numel() * t.element_size()
    return n


def load_tensorizer(url, verify):
    from tensorizer import TensorDeserializer
    t0, c0 = _start()
    d = TensorDeserializer(url, device="cpu", verify_hash=verify)
    n, k = _nbytes(d.values()), len(d)
    took = time.perf_counter() - t0
    d.close()  # Ends its HTTP readers, so their CPU is counted too.
    return n, k, took, _cpu() - c0


def load_runai(files):
    from runai_model_streamer import SafetensorsStreamer
    t0, c0 = _start()
    with SafetensorsStreamer() as s:
        s.stream_files(files, device="cpu")
        d = dict(s.get_tensors())
    n, k = _nbytes(d.values()), len(d)
    return n, k, time.perf_counter() - t0, _cpu() - c0


def load_curl_safetensors(tmp, urls):
    import safetensors.torch
    os.makedirs(tmp, exist_ok=True)
    paths = [os.path.join(tmp, u.rsplit("/", 1)[1]) for u in urls]
    cmd = ["curl", "-s", "--fail"]
    for u, p in zip(urls, paths):
        cmd += ["-o", p, u]
    try:
        t0, c0 = _start()
        subprocess.run(cmd, check=True)
        d = {}
        for p in paths:
            d.update(safetensors.torch.load_file(p, device="cpu"))
        n, k = _nbytes(d.values()), len(d)
        return n, k, time.perf_counter() - t0, _cpu() - c0
    finally:
        for p in paths:
            if os.path.exists(p):
                os.unlink(p)


def load_ws(uri, framework):
    import weightserver as ws
    import numpy  # noqa: F401
    import ml_dtypes  # noqa: F401  BF16 views: ~1 s to import cold.
    if framework == "pt":
        import torch  # noqa: F401
    ws.tune_malloc()
    t0, c0 = _start()
    d = ws.load(uri, framework=framework)
    n, k = _nbytes(d.values()), len(d)
    return n, k, time.perf_counter() - t0, _cpu() - c0


def versions():
    from importlib.metadata import PackageNotFoundError, version
    out = {"python": sys.version.split()[0]}
    for dist in ("tensorizer", "runai-model-streamer", "safetensors", "torch",
                 "numpy", "weightserver"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    return out


def serialize(out, files):
    """Writes the tensors of `files` to `out` with Tensorizer (its default
    CRC32 and SHA-256 hashes of every tensor included), through a temporary
    file, so a half-written file is never taken for a whole one."""
    import safetensors.torch
    from tensorizer import TensorSerializer
    sd = {}
    for f in files:
        sd.update(safetensors.torch.load_file(f))
    tmp = out + ".tmp"
    s = TensorSerializer(tmp)
    s.write_state_dict(sd)
    s.close()
    os.replace(tmp, out)
    return {"bytes": _nbytes(sd.values()), "tensors": len(sd)}


def main(argv):
    if argv[0] == "versions":
        print(json.dumps(versions()))
        return 0
    if argv[0] == "serialize":
        print(json.dumps(serialize(argv[1], argv[2:])))
        return 0
    loader, src = argv[0], argv[1:]
    if loader in ("tensorizer", "tensorizer-verify"):
        r = load_tensorizer(src[0], loader == "tensorizer-verify")
    elif loader == "runai":
        r = load_runai(src)
    elif loader == "curl-safetensors":
        r = load_curl_safetensors(src[0], src[1:])
    elif loader in ("ws-np", "ws-pt"):
        r = load_ws(src[0], loader[3:])
    else:
        print("peer_load.py: unknown loader '%s'" % loader, file=sys.stderr)
        return 2
    n, k, took, cpu = r
    print(json.dumps({"bytes": n, "tensors": k, "seconds": took, "cpu_s": cpu,
                      "late_s": _LATE_S}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
