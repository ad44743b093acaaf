# Copyright 2026 The Weightserver Authors.
"""A Hugging Face hub cache served as a model repository.

The cache is built offline with huggingface_hub's own helpers (the folder
name, the blob symlinks and refs/main are written by the functions
hf_hub_download uses) and checked with huggingface_hub.scan_cache_dir, so
the layout is the one the package reads and writes. The daemon serves
ORG/NAME (refs/main) and ORG/NAME@COMMIT; the bytes are compared with the
reference safetensors package. A snapshot added while the daemon runs shows
up without a restart (inotify, the daemon's defaults).
"""
import hashlib
import os
import pathlib
import time

import numpy as np
import pytest

import huggingface_hub as hf
from huggingface_hub import file_download as hf_download
from safetensors.numpy import load_file, save_file

import weightserver as ws
from conftest import Server

REPO_ID = "org/name"


def add_snapshot(cache: pathlib.Path, commit: str, files: dict, main: bool):
    """Writes `files` ({name: bytes}) as snapshot `commit` of REPO_ID, the
    way hf_hub_download stores a download: blobs/<sha256>, a relative
    symlink snapshots/<commit>/<name> -> ../../blobs/<sha256>, refs/main."""
    storage = cache / hf_download.repo_folder_name(repo_id=REPO_ID, repo_type="model")
    (storage / "blobs").mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        blob = storage / "blobs" / hashlib.sha256(data).hexdigest()
        if not blob.exists():
            incomplete = blob.with_name(blob.name + ".incomplete")
            incomplete.write_bytes(data)
            os.replace(incomplete, blob)  # As the hub's download does.
        pointer = hf_download._get_pointer_path(str(storage), commit, name)
        os.makedirs(os.path.dirname(pointer), exist_ok=True)
        hf_download._create_symlink(str(blob), pointer, new_blob=True)
    if main:
        hf_download._cache_commit_hash_for_specific_revision(str(storage), "main", commit)


def safetensors_bytes(tmp: pathlib.Path, tensors: dict) -> bytes:
    path = tmp / "t.safetensors"
    save_file(tensors, str(path))
    return path.read_bytes()


def wait_for(what, predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def check_model(uri: str, reference: pathlib.Path):
    expected = load_file(str(reference))
    with ws.safe_open(uri) as f:
        assert sorted(f.keys()) == sorted(expected)
        for name, array in expected.items():
            got = f.get_tensor(name)
            assert got.dtype == array.dtype and got.shape == array.shape
            assert got.tobytes() == array.tobytes(), name


def test_hf_cache_served_and_updated_live(tmp_path):
    cache = tmp_path / "hub"
    cache.mkdir()
    rng = np.random.default_rng(7)
    c1, c2 = "1" * 40, "2" * 40
    v1 = safetensors_bytes(tmp_path, {
        "embed.weight": rng.standard_normal((64, 32)).astype(np.float32),
        "lm_head.weight": rng.standard_normal((32, 64)).astype(np.float16)})
    add_snapshot(cache, c1, {"model.safetensors": v1,
                             "config.json": b'{"model_type": "llama"}'}, main=True)

    info = hf.scan_cache_dir(cache)
    assert not info.warnings, info.warnings
    (repo,) = info.repos
    assert repo.repo_id == REPO_ID and repo.repo_type == "model"
    (revision,) = repo.revisions
    assert revision.commit_hash == c1 and revision.refs == frozenset({"main"})
    assert {f.file_name for f in revision.files} == {"model.safetensors", "config.json"}

    snapshot1 = cache / "models--org--name" / "snapshots" / c1 / "model.safetensors"
    server = Server(cache)
    try:
        names = {m.name for m in ws.list_models(server.address)}
        assert names == {REPO_ID, f"{REPO_ID}@{c1}"}
        check_model(server.uri(REPO_ID), snapshot1)
        # '@' in a model name is %40 in a URI (a bare @COMMIT is the URI's
        # revision, resolved to the same model by newer clients).
        check_model(server.uri(f"{REPO_ID}%40{c1}"), snapshot1)
        with ws.safe_open(server.uri(REPO_ID)) as f:
            assert f.read_file("config.json") == b'{"model_type": "llama"}'

        # A second commit downloaded while the daemon runs; main moves to it.
        v2 = safetensors_bytes(tmp_path, {
            "embed.weight": rng.standard_normal((16, 8)).astype(np.float32)})
        add_snapshot(cache, c2, {"model.safetensors": v2}, main=True)
        (repo,) = hf.scan_cache_dir(cache).repos
        assert {r.commit_hash for r in repo.revisions} == {c1, c2}

        def both_listed():
            models = {m.name: m for m in ws.list_models(server.address)}
            return f"{REPO_ID}@{c2}" in models and \
                models[REPO_ID].revision == models[f"{REPO_ID}@{c2}"].revision
        wait_for("the new snapshot and main moved to it", both_listed)
        snapshot2 = cache / "models--org--name" / "snapshots" / c2 / "model.safetensors"
        check_model(server.uri(REPO_ID), snapshot2)
        check_model(server.uri(f"{REPO_ID}%40{c2}"), snapshot2)
        check_model(server.uri(f"{REPO_ID}%40{c1}"), snapshot1)  # Still served.
    finally:
        server.stop()


def test_bare_commit_in_a_uri_names_the_snapshot(tmp_path):
    """weightserver://HOST/org/name@COMMIT: the URI's revision, which the
    client resolves to the model org/name@COMMIT when org/name is at another
    revision (Client::GetModel; a package built from this tree)."""
    cache = tmp_path / "hub"
    cache.mkdir()
    rng = np.random.default_rng(11)
    c1, c2 = "a" * 40, "b" * 40
    for commit in (c1, c2):
        data = safetensors_bytes(tmp_path, {
            "w": rng.standard_normal((8, 4)).astype(np.float32)})
        add_snapshot(cache, commit, {"model.safetensors": data}, main=commit == c2)
    server = Server(cache)
    try:
        snapshot1 = cache / "models--org--name" / "snapshots" / c1 / "model.safetensors"
        check_model(server.uri(f"{REPO_ID}@{c1}"), snapshot1)
    finally:
        server.stop()
