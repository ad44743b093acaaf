# Copyright 2026 The Weightserver Authors.
"""The Python SDK against a real server: byte equality with the reference
safetensors reader for every dtype, slices with numpy semantics, shards,
iter_tensors, errors, zero copy and the GIL."""
import gc
import threading
import time

import numpy as np
import pytest
from safetensors import safe_open as ref_open

import weightserver as ws
from conftest import Server


def ref(server, model, file="model.safetensors", framework="np"):
    return ref_open(str(server.repo / model / file), framework=framework)


def torch_bytes(t) -> bytes:
    import torch
    # contiguous(): the reference's torch slices are views with strides.
    return t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def test_get_tensor_equals_the_reference_for_every_numpy_dtype(server):
    import ml_dtypes
    fp8 = {"f8e4m3": ml_dtypes.float8_e4m3fn, "f8e5m2": ml_dtypes.float8_e5m2}
    with ref(server, "all-dtypes") as r, ref(server, "all-dtypes", framework="pt") as rt, \
            ws.safe_open(server.uri("all-dtypes")) as f:
        assert f.keys() == sorted(r.keys())
        assert f.metadata() == r.metadata()
        for k in r.keys():
            got = f.get_tensor(k)
            if k in fp8:
                # The reference's numpy reader has no FP8: its torch one has.
                want = rt.get_tensor(k)
                assert got.dtype == np.dtype(fp8[k]), k
                assert got.shape == tuple(want.shape), k
                assert got.tobytes() == torch_bytes(want), k
                continue
            want = r.get_tensor(k)
            assert got.dtype == want.dtype, k
            assert got.shape == want.shape, k
            assert got.tobytes() == want.tobytes(), k


def test_get_tensor_equals_the_reference_in_torch(server):
    import torch
    with ref(server, "all-dtypes", framework="pt") as r, \
            ws.safe_open(server.uri("all-dtypes"), framework="pt") as f:
        for k in r.keys():
            want, got = r.get_tensor(k), f.get_tensor(k)
            assert isinstance(got, torch.Tensor)
            assert got.dtype == want.dtype, k
            assert tuple(got.shape) == tuple(want.shape), k
            assert torch_bytes(got) == torch_bytes(want), k


def test_the_fp8_dtypes_numpy_writers_lack_equal_the_reference(server):
    """F8_E8M0 and the FNUZ formats, against the reference's torch reader,
    in numpy (through ml_dtypes) and in torch."""
    import ml_dtypes
    import torch
    want_np = {"e8m0": ml_dtypes.float8_e8m0fnu, "e4m3fnuz": ml_dtypes.float8_e4m3fnuz,
               "e5m2fnuz": ml_dtypes.float8_e5m2fnuz}
    with ref(server, "fp8-more", framework="pt") as r, \
            ws.safe_open(server.uri("fp8-more")) as f, \
            ws.safe_open(server.uri("fp8-more"), framework="pt") as ft:
        assert f.keys() == sorted(want_np)
        for k in r.keys():
            want = r.get_tensor(k)
            got = f.get_tensor(k)
            assert got.dtype == np.dtype(want_np[k]), k
            assert got.shape == tuple(want.shape), k
            assert got.tobytes() == torch_bytes(want), k
            got_t = ft.get_tensor(k)
            assert isinstance(got_t, torch.Tensor) and got_t.dtype == want.dtype, k
            assert torch_bytes(got_t) == torch_bytes(want), k
            # A slice of it, cut by the server, equals the reference's.
            assert torch_bytes(ft.get_slice(k)[1:]) == torch_bytes(r.get_slice(k)[1:]), k


@pytest.mark.parametrize("key", [
    (slice(None), slice(2, 5)),
    (0,),
    (-1, slice(None), 1),
    (Ellipsis, 0),
    (slice(1, None), Ellipsis),
    (slice(-2, None), slice(0, 0)),
    (slice(5, 1),),
    1,
])
def test_get_slice_matches_numpy_indexing_and_the_reference(server, key):
    with ref(server, "all-dtypes") as r, ws.safe_open(server.uri("all-dtypes")) as f:
        for k in ("f32", "bf16", "u8", "c64", "bool"):
            full = r.get_tensor(k)
            want = full[key]
            got = f.get_slice(k)[key]
            assert got.shape == want.shape, (k, key)
            assert got.tobytes() == want.tobytes(), (k, key)
            ref_slice = r.get_slice(k)
            assert f.get_slice(k).get_shape() == ref_slice.get_shape()
            assert f.get_slice(k).get_dtype() == ref_slice.get_dtype()


@pytest.mark.parametrize("key", [
    (slice(None), slice(2, 5)),
    (-1, slice(None), 1),
    (Ellipsis, 0),
    (slice(1, None), Ellipsis),
])
def test_get_slice_in_torch_equals_the_reference_for_every_dtype(server, key):
    with ref(server, "all-dtypes", framework="pt") as r, \
            ws.safe_open(server.uri("all-dtypes"), framework="pt") as f:
        for k in r.keys():
            if r.get_slice(k).get_shape()[:1] in ([], [0]):
                continue  # The scalar and the empty tensor: no such index.
            want = r.get_slice(k)[key]
            got = f.get_slice(k)[key]
            assert got.dtype == want.dtype, (k, key)
            assert tuple(got.shape) == tuple(want.shape), (k, key)
            assert torch_bytes(got) == torch_bytes(want), (k, key)


def test_get_slice_refuses_steps_and_bad_indices(server):
    with ws.safe_open(server.uri("all-dtypes")) as f:
        s = f.get_slice("f32")
        with pytest.raises(ValueError, match="step 2 is not supported"):
            s[::2]
        with pytest.raises(IndexError, match="out of bounds"):
            s[99]
        with pytest.raises(IndexError, match="too many indices"):
            s[0, 0, 0, 0]
        with pytest.raises(TypeError, match="cannot index with"):
            s["a"]
        with pytest.raises(TypeError, match="a bool index is a mask"):
            s[True]


def test_load_of_a_sharded_model_and_two_ranks_concatenate_to_the_whole(server):
    full = ws.load(server.uri("org/sharded"))
    assert sorted(full) == ["layer0.b", "layer0.w", "layer1.b", "layer1.w"]
    ranks = [ws.load(server.uri("org/sharded"), shard=ws.Shard(-1, r, 2)) for r in range(2)]
    for name, t in full.items():
        assert ranks[0][name].shape[-1] == t.shape[-1] // 2
        np.testing.assert_array_equal(
            np.concatenate([ranks[0][name], ranks[1][name]], axis=-1), t)
    assert ws.shard_dim([16, 24], 1, 1, 2) == [[], [(12, 24)]]
    assert ws.shard_fused([6, 2], 0, [2, 2, 2], 0, 2) == [[(0, 1), (2, 3), (4, 5)], []]


def test_iter_tensors_yields_every_tensor_in_file_order_in_batches(server):
    with ws.safe_open(server.uri("big")) as f:
        order = f.offset_keys()
    seen = []
    with ref(server, "big") as r:
        for name, t in ws.iter_tensors(server.uri("big"), batch_bytes=6 << 20):
            seen.append(name)
            assert t.shape == (1024, 1024)
            np.testing.assert_array_equal(t, r.get_tensor(name))
        assert seen == order
        got = dict(ws.iter_tensors(server.uri("big"), tensors=["t3", "t1"]))
        np.testing.assert_array_equal(got["t3"], r.get_tensor("t3"))
        np.testing.assert_array_equal(got["t1"], r.get_tensor("t1"))


@pytest.fixture(scope="module")
def paced_server(server):
    """The same repository behind a server that sends 32 MiB/s in all: the
    128 MiB of "big" take ~4 s."""
    s = Server(server.repo, ["--max_bytes_per_second", str(32 << 20)])
    yield s
    s.stop()


def test_iter_tensors_yields_a_tensor_before_its_batch_has_arrived(paced_server):
    start = time.monotonic()
    first = None
    with ref(paced_server, "big") as r:
        # One batch of the whole model: each tensor comes as its bytes do.
        for name, t in ws.iter_tensors(paced_server.uri("big"), batch_bytes=1 << 30):
            if first is None:
                first = time.monotonic() - start
            np.testing.assert_array_equal(t, r.get_tensor(name))
    total = time.monotonic() - start
    assert total > 2.0, "the server was not paced"
    assert first < 0.4 * total, (first, total)


def test_a_consumer_that_stops_early_stops_the_fetch(paced_server):
    it = ws.iter_tensors(paced_server.uri("big"), batch_bytes=1 << 30)
    name, t = next(it)
    kept = t.copy()
    start = time.monotonic()
    it.close()  # Cancels the load and waits for its thread.
    del it
    assert time.monotonic() - start < 2.0  # The rest would take ~4 s.
    np.testing.assert_array_equal(t, kept)  # A yielded view stays valid.
    # The paced server is free again: a small load goes through at once.
    assert ws.load(paced_server.uri("big"), tensors=["t0"])["t0"].shape == (1024, 1024)


def test_errors_carry_the_grpc_code(server):
    with pytest.raises(ws.WeightserverError) as e:
        ws.safe_open(server.uri("no-such-model"))
    assert e.value.code == "NOT_FOUND" and e.value.grpc_code == 5
    with pytest.raises(ws.WeightserverError) as e:
        ws.safe_open("weightserver://h:99999/m")
    assert e.value.code == "INVALID_ARGUMENT" and "PORT" in e.value.message
    with pytest.raises(ws.WeightserverError) as e:
        ws.safe_open(server.uri("all-dtypes") + "@00000000deadbeef")
    assert e.value.code == "FAILED_PRECONDITION"
    with ws.safe_open(server.uri("all-dtypes")) as f:
        with pytest.raises(ws.WeightserverError) as e:
            f.get_tensor("nope")
        assert e.value.code == "NOT_FOUND"
        # The pinned revision, as a URI suffix, opens the same model.
        assert ws.safe_open(server.uri("all-dtypes") + "@" + f.revision).keys() == f.keys()
    with pytest.raises(ws.WeightserverError) as e:
        ws.load("weightserver://127.0.0.1:1/m")
    assert e.value.code == "UNAVAILABLE"
    with pytest.raises(ValueError, match="numpy arrays live in host memory"):
        ws.load(server.uri("all-dtypes"), framework="np", device="cuda:0")
    with pytest.raises(ValueError, match="numpy arrays live in host memory"):
        ws.load(server.uri("all-dtypes"), framework="np", device=0)
    with pytest.raises(ValueError, match="world >= 1"):
        ws.load(server.uri("org/sharded"), shard=ws.Shard(0, 0, 0))
    with pytest.raises(ValueError, match="framework must be"):
        ws.load(server.uri("all-dtypes"), framework="jax")


def test_arrays_are_views_that_keep_their_memory_alive(server):
    tensors = ws.load(server.uri("big"), tensors=["t0", "t1"])
    a, b = tensors["t0"], tensors["t1"]
    assert not a.flags.owndata and not b.flags.owndata
    with ref(server, "big") as r:
        want = r.get_tensor("t1").copy()
    del tensors, a
    gc.collect()
    np.testing.assert_array_equal(b, want)  # The block outlives the dict.


def test_the_gil_is_released_while_bytes_move(server):
    ticks = 0
    stop = threading.Event()

    def spin():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.0005)

    t = threading.Thread(target=spin)
    t.start()
    try:
        before = ticks
        t0 = time.perf_counter()
        for _ in range(3):
            ws.load(server.uri("big"))
        elapsed = time.perf_counter() - t0
        during = ticks - before
    finally:
        stop.set()
        t.join()
    # A thread held off by the GIL would barely tick; one that runs ticks
    # every ~0.5 ms (sleep granularity on a loaded 2-core VM: allow 10x).
    assert during > elapsed / 0.005, (during, elapsed)


def test_list_models_and_parse_uri(server):
    names = [m.name for m in ws.list_models(server.address)]
    assert names == ["all-dtypes", "big", "fp8-more", "org/sharded"]
    u = ws.parse_uri("weightserver+unix://%2Frun%2Fws.sock/org/m@ab12")
    assert u == ws.ModelUri("unix:/run/ws.sock", "org/m", "ab12")


def test_tensors_alive_at_exit_print_nothing(server):
    """A script that still holds torch tensors (and numpy arrays) when the
    interpreter exits, as most do, exits cleanly and silently: no nanobind
    "leaked instances" report on stderr (torch frees its tensors after the
    extension's teardown, so the Tables they keep alive outlive it)."""
    import subprocess
    import sys
    script = ("import torch, weightserver as ws\n"
              "pt = ws.load(%r, framework='pt')\n"
              "arr = ws.load(%r, framework='np')\n"
              "f = ws.safe_open(%r, framework='pt')\n"
              "t = f.get_tensor(f.keys()[0])\n"
              % (server.uri("big"), server.uri("big"), server.uri("all-dtypes")))
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
