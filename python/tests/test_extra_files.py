# Copyright 2026 The Weightserver Authors.
"""A model's non-weight files from Python: listing, read_file,
download_config and `python -m weightserver download-config`."""
import os
import subprocess
import sys

import pytest

import weightserver as ws
from conftest import EXTRA_FILES


def test_safe_open_lists_and_reads_the_extra_files(server):
    with ws.safe_open(server.uri("org/sharded")) as f:
        assert f.extra_files() == sorted(EXTRA_FILES)
        for name, data in EXTRA_FILES.items():
            assert f.read_file(name) == data
        with pytest.raises(ws.WeightserverError) as e:
            f.read_file("model-00001-of-00002.safetensors")
        assert e.value.code == "NOT_FOUND"
    assert ws.read_file(server.uri("org/sharded"), "config.json") == EXTRA_FILES["config.json"]


def test_download_config_writes_everything_but_the_weights(server, tmp_path):
    out = ws.download_config(server.uri("org/sharded"), tmp_path / "llama")
    assert out == str(tmp_path / "llama")
    assert sorted(os.listdir(out)) == sorted(EXTRA_FILES)
    for name, data in EXTRA_FILES.items():
        assert (tmp_path / "llama" / name).read_bytes() == data


def test_download_config_of_a_model_without_extra_files_makes_an_empty_dir(server, tmp_path):
    ws.download_config(server.uri("all-dtypes"), tmp_path / "d")
    assert os.listdir(tmp_path / "d") == []


def test_download_config_pins_the_revision(server, tmp_path):
    with pytest.raises(ws.WeightserverError) as e:
        ws.download_config(server.uri("org/sharded") + "@0000000000000000", tmp_path / "x")
    assert e.value.code == "FAILED_PRECONDITION"
    assert not (tmp_path / "x").exists()


def test_python_m_weightserver_download_config(server, tmp_path):
    p = subprocess.run([sys.executable, "-m", "weightserver", "download-config",
                        server.uri("org/sharded"), str(tmp_path / "cfg")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "cfg" / "config.json").read_bytes() == EXTRA_FILES["config.json"]
    p = subprocess.run([sys.executable, "-m", "weightserver", "download-config",
                        server.uri("nope"), str(tmp_path / "cfg2")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 1
    assert "NOT_FOUND" in p.stderr
