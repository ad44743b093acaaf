# Copyright 2026 The Weightserver Authors.
"""The GPU path (device="cuda:N"): without a GPU one clear error; with one,
tensors in GPU memory equal to the host load, whole, sharded and through
iter_tensors. The tests that need a GPU skip without one, and the one that
needs none skips with one: each machine runs the half it can (CI has no GPU;
tests/gpu/run.sh runs the other half on a GPU machine)."""
import pytest
import torch  # Installed by the test run: never skipped.

import weightserver as ws

HAVE_GPU = torch.cuda.is_available()
needs_gpu = pytest.mark.skipif(not HAVE_GPU, reason="no CUDA device (torch.cuda.is_available() is False)")


def same(a, b) -> bool:
    """Byte equality of two tensors wherever they live."""
    return a.dtype == b.dtype and a.shape == b.shape and bool(
        (a.cpu().reshape(-1).view(torch.uint8) == b.cpu().reshape(-1).view(torch.uint8)).all())


@pytest.mark.skipif(HAVE_GPU, reason="a CUDA device is present")
def test_gpu_without_a_device_is_one_clear_error(server):
    with pytest.raises(ws.WeightserverError) as e:
        ws.load(server.uri("all-dtypes"), framework="pt", device="cuda:0")
    assert e.value.code in ("UNAVAILABLE", "FAILED_PRECONDITION", "UNIMPLEMENTED"), e.value
    assert "CUDA" in e.value.message or "cuda" in e.value.message


@needs_gpu
def test_load_into_gpu_memory_equals_the_host_load(server):
    host = ws.load(server.uri("all-dtypes"), framework="pt")
    gpu = ws.load(server.uri("all-dtypes"), framework="pt", device="cuda:0")
    assert gpu.keys() == host.keys()
    for k, t in gpu.items():
        assert t.device == torch.device("cuda", 0), k
        assert same(t, host[k]), k


@needs_gpu
def test_shards_in_gpu_memory_equal_the_host_shards(server):
    for r in range(2):
        shard = ws.Shard(-1, r, 2)
        host = ws.load(server.uri("org/sharded"), framework="pt", shard=shard)
        gpu = dict(ws.iter_tensors(server.uri("org/sharded"), framework="pt",
                                   device="cuda:0", shard=shard))
        assert gpu.keys() == host.keys()
        for k, t in gpu.items():
            assert t.is_cuda, k
            assert same(t, host[k]), k
