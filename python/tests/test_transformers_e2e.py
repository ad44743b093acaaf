# Copyright 2026 The Weightserver Authors.
"""A real consumer, end to end, on CPU: a small Llama built from a config
with transformers (no hub access), saved as sharded safetensors, served by a
real weightserver; a fresh process gets its config and weights only from
the server (download_config + iter_tensors into from_config +
load_state_dict) and computes the same logits as the original model. Two
tensor-parallel ranks' shards, concatenated, are the full tensors."""
import json
import pathlib
import subprocess
import sys

import pytest
import torch

import weightserver as ws
from conftest import Server

import transformers  # noqa: E402  Installed by tests/python/run_pytest.sh.

MODEL = "org/tiny-llama"
TOKENS = [[1, 17, 42, 99, 7, 250, 3, 64]]

# Runs in a fresh interpreter: nothing but the URI comes from the parent.
WORKER = r"""
import sys, tempfile, torch, transformers, weightserver as ws
torch.manual_seed(0)
torch.set_num_threads(1)
uri, out = sys.argv[1], sys.argv[2]
path = ws.download_config(uri, tempfile.mkdtemp())
config = transformers.AutoConfig.from_pretrained(path)
model = transformers.AutoModelForCausalLM.from_config(config)
state = dict(ws.iter_tensors(uri, framework="pt", batch_bytes=64 << 10))
missing, unexpected = model.load_state_dict(state, strict=False)
assert not unexpected, unexpected
# Only buffers transformers does not save (rotary inv_freq) may be missing.
assert all("rotary" in k or "inv_freq" in k for k in missing), missing
model.eval()
with torch.no_grad():
    logits = model(torch.tensor(%s)).logits
torch.save(logits, out)
""" % TOKENS


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    torch.manual_seed(1234)
    torch.set_num_threads(1)
    repo = tmp_path_factory.mktemp("llama-repo")
    config = transformers.LlamaConfig(
        vocab_size=320, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
        tie_word_embeddings=False)
    model = transformers.LlamaForCausalLM(config).eval()
    model.save_pretrained(repo / MODEL, max_shard_size="100KB", safe_serialization=True)
    with torch.no_grad():
        logits = model(torch.tensor(TOKENS)).logits
    server = Server(repo)
    yield server, model, logits
    server.stop()


def test_the_saved_model_is_sharded_with_its_config(llama):
    server, _, _ = llama
    d = server.repo / MODEL
    assert (d / "model.safetensors.index.json").exists()
    assert len(list(d.glob("model-*.safetensors"))) >= 2
    with ws.safe_open(server.uri(MODEL)) as f:
        assert "config.json" in f.extra_files()
        assert "generation_config.json" in f.extra_files()
        assert json.loads(f.read_file("config.json"))["model_type"] == "llama"


def test_a_fresh_process_gets_the_same_logits_from_the_server_alone(llama, tmp_path):
    server, _, want = llama
    out = tmp_path / "logits.pt"
    p = subprocess.run([sys.executable, "-c", WORKER, server.uri(MODEL), str(out)],
                       capture_output=True, text=True, timeout=600,
                       cwd=tmp_path)  # Not the source tree: the installed package.
    assert p.returncode == 0, p.stderr[-4000:]
    got = torch.load(out)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, rtol=0, atol=0)


def test_two_tensor_parallel_ranks_concatenate_to_the_full_tensors(llama):
    server, model, _ = llama
    full = model.state_dict()
    uri = server.uri(MODEL)
    for dim in (0, 1):
        ranks = [dict(ws.iter_tensors(uri, framework="pt", shard=ws.Shard(dim, r, 2)))
                 for r in range(2)]
        split = 0
        for name, t in ranks[0].items():
            if t.dim() > dim and tuple(t.shape) != tuple(full[name].shape):
                assert t.shape[dim] * 2 == full[name].shape[dim], name
                joined = torch.cat([ranks[0][name], ranks[1][name]], dim=dim)
                assert torch.equal(joined, full[name]), name
                split += 1
            else:
                assert torch.equal(t, full[name]), name  # Not split: whole.
        assert split >= 10, f"dim {dim}: only {split} tensors were split"
