# Copyright 2026 The Weightserver Authors.
"""Fixtures: a real weightserver on 127.0.0.1:0 serving models written with
the reference safetensors package.

The daemon's binary is $WS_SERVER_BIN, or ../build/server/weightserver.
"""
import os
import pathlib
import subprocess
import time

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def server_binary() -> str:
    path = os.environ.get("WS_SERVER_BIN", str(ROOT / "build" / "server" / "weightserver"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"no weightserver binary at {path} (build the project, or set WS_SERVER_BIN)")
    return path


class Server:
    def __init__(self, repo: pathlib.Path, args=()):
        self.repo = repo
        self.proc = subprocess.Popen(
            [server_binary(), "--repo", str(repo), "--listen", "127.0.0.1:0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            self.proc.kill()
            raise RuntimeError("weightserver did not start: " + line + self.proc.stderr.read())
        self.address = line.strip().rsplit(" ", 1)[1]

    def uri(self, model: str) -> str:
        return f"weightserver://{self.address}/{model}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def _rng_array(rng, dtype, shape):
    n = int(np.prod(shape)) * np.dtype(dtype).itemsize
    return np.frombuffer(rng.bytes(n), dtype=np.uint8).view(dtype).reshape(shape).copy()


# The non-weight files of org/sharded (served by ReadFile).
EXTRA_FILES = {
    "config.json": b'{"model_type": "llama", "hidden_size": 24}',
    "generation_config.json": b'{"do_sample": false}',
    "tokenizer.json": bytes(range(256)) * 12000,  # 3 MB: several 1 MiB chunks.
}


def write_raw_safetensors(path: pathlib.Path, tensors):
    """Writes {name: (dtype, shape, bytes)} as a .safetensors file."""
    import json
    header, offset = {}, 0
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.parent.mkdir(parents=True)
    path.write_bytes(len(text).to_bytes(8, "little") + text +
                     b"".join(d for _, _, d in tensors.values()))


def write_models(repo: pathlib.Path):
    """Models with the reference writer: every dtype numpy (with ml_dtypes)
    can hold, a sharded model, and a bigger one for the GIL test."""
    import ml_dtypes
    from safetensors.numpy import save_file
    rng = np.random.default_rng(7)
    dtypes = {
        "bool": np.bool_, "u8": np.uint8, "i8": np.int8, "i16": np.int16,
        "u16": np.uint16, "f16": np.float16, "i32": np.int32, "u32": np.uint32,
        "f32": np.float32, "f64": np.float64, "i64": np.int64, "u64": np.uint64,
        "c64": np.complex64, "bf16": ml_dtypes.bfloat16,
        "f8e4m3": ml_dtypes.float8_e4m3fn, "f8e5m2": ml_dtypes.float8_e5m2,
    }
    tensors = {}
    for i, (name, dt) in enumerate(dtypes.items()):
        shape = (3 + i % 3, 8, 2 + i % 4)
        if dt is np.bool_:
            tensors[name] = rng.integers(0, 2, shape).astype(np.bool_)
        else:
            tensors[name] = _rng_array(rng, dt, shape)
    tensors["scalar"] = np.array(3.5, dtype=np.float32)
    tensors["empty"] = np.zeros((0, 4), dtype=np.float32)
    (repo / "all-dtypes").mkdir(parents=True)
    save_file(tensors, str(repo / "all-dtypes" / "model.safetensors"),
              metadata={"format": "np", "note": "all dtypes"})

    write_raw_safetensors(repo / "fp8-more" / "model.safetensors", {
        # The dtypes neither reference writer takes from numpy: the torch
        # writer of safetensors 0.8 has no F8_E8M0, so the file is written
        # by hand (the format is an 8-byte length, a JSON header, the bytes).
        "e8m0": ("F8_E8M0", (4, 6), rng.bytes(24)),
        "e4m3fnuz": ("F8_E4M3FNUZ", (3, 8), rng.bytes(24)),
        "e5m2fnuz": ("F8_E5M2FNUZ", (2, 2, 5), rng.bytes(20)),
    })

    (repo / "org" / "sharded").mkdir(parents=True)
    weight_map = {}
    for s in range(2):
        part = {f"layer{s}.w": _rng_array(rng, np.float32, (16, 24)),
                f"layer{s}.b": _rng_array(rng, np.float32, (24,))}
        fname = f"model-0000{s + 1}-of-00002.safetensors"
        save_file(part, str(repo / "org" / "sharded" / fname), metadata={"format": "pt"})
        weight_map.update({k: fname for k in part})
    import json
    (repo / "org" / "sharded" / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": 0}, "weight_map": weight_map}))
    for name, data in EXTRA_FILES.items():
        (repo / "org" / "sharded" / name).write_bytes(data)

    (repo / "big").mkdir()
    save_file({f"t{i}": _rng_array(rng, np.float32, (1024, 1024)) for i in range(32)},
              str(repo / "big" / "model.safetensors"))


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    repo = tmp_path_factory.mktemp("repo")
    write_models(repo)
    s = Server(repo)
    yield s
    s.stop()
