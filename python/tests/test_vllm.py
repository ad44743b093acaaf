# Copyright 2026 The Weightserver Authors.
"""weightserver.vllm against vLLM's documented model-loader interface
(tests/fake_vllm: vLLM needs a GPU and cannot run here): the entry point,
idempotent registration, download_model, load_weights feeding
model.load_weights, and clear errors."""
import importlib
import importlib.metadata
import pathlib
import sys
import types
import warnings

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file

import weightserver as ws
from conftest import EXTRA_FILES

FAKE_VLLM = pathlib.Path(__file__).parent / "fake_vllm"


@pytest.fixture
def vllm(monkeypatch):
    """The fake vllm importable, and weightserver.vllm fresh."""
    monkeypatch.syspath_prepend(str(FAKE_VLLM))
    for name in list(sys.modules):
        if name == "vllm" or name.startswith("vllm.") or name == "weightserver.vllm":
            monkeypatch.delitem(sys.modules, name)
    return importlib.import_module("vllm.model_executor.model_loader")


def entry_point():
    eps = importlib.metadata.entry_points(group="vllm.general_plugins")
    found = [ep for ep in eps if ep.name == "weightserver"]
    assert len(found) == 1, "the installed package has no vllm.general_plugins entry point"
    assert found[0].value == "weightserver.vllm:register"
    return found[0]


class TinyVllmModel(torch.nn.Module):
    """Like a vLLM model: load_weights(iterable of (name, tensor)) copies
    into its parameters and returns the names it loaded."""

    def __init__(self, shapes, skip=()):
        super().__init__()
        self.params = torch.nn.ParameterDict(
            {n.replace(".", "_"): torch.nn.Parameter(torch.zeros(s)) for n, s in shapes.items()})
        self.skip = set(skip)
        self.seen_types = set()

    def load_weights(self, weights):
        loaded = set()
        for name, t in weights:
            self.seen_types.add(type(t))
            if name in self.skip:
                continue
            p = self.params[name.replace(".", "_")]
            p.data.copy_(t)
            loaded.add("params." + name.replace(".", "_"))
        return loaded


def sharded_arrays(server):
    d = server.repo / "org" / "sharded"
    out = {}
    for f in sorted(d.glob("*.safetensors")):
        out.update(load_file(str(f)))
    return out


def test_the_entry_point_registers_the_load_format_once(vllm):
    register = entry_point().load()
    cls = register()
    assert register() is cls  # Idempotent: vLLM calls it in every process.
    assert vllm.registrations == [("weightserver", cls)]
    assert issubclass(cls, importlib.import_module(
        "vllm.model_executor.model_loader.base_loader").BaseModelLoader)


def test_download_model_writes_the_config_where_vllm_reads_it(vllm, server, tmp_path):
    entry_point().load()()
    cfg = types.SimpleNamespace(load_format="weightserver",
                                model_loader_extra_config={"uri": server.uri("org/sharded")})
    loader = vllm.get_model_loader(cfg)
    loader.download_model(types.SimpleNamespace(model=str(tmp_path / "m")))
    for name, data in EXTRA_FILES.items():
        assert (tmp_path / "m" / name).read_bytes() == data


def test_load_weights_feeds_model_load_weights_from_iter_tensors(vllm, server):
    entry_point().load()()
    want = sharded_arrays(server)
    model = TinyVllmModel({n: a.shape for n, a in want.items()})
    cfg = types.SimpleNamespace(
        load_format="weightserver",
        model_loader_extra_config={"uri": server.uri("org/sharded"), "streams": 2,
                                   "batch_bytes": 1024})
    loader = vllm.get_model_loader(cfg)
    loader.load_weights(model, types.SimpleNamespace(quantization=None))
    assert model.seen_types == {torch.Tensor}
    for n, a in want.items():
        np.testing.assert_array_equal(model.params[n.replace(".", "_")].detach().numpy(), a)


def test_a_weight_not_loaded_is_an_error_as_in_vllm(vllm, server):
    entry_point().load()()
    want = sharded_arrays(server)
    model = TinyVllmModel({n: a.shape for n, a in want.items()}, skip={"layer1.b"})
    loader = vllm.get_model_loader(types.SimpleNamespace(
        load_format="weightserver", model_loader_extra_config={"uri": server.uri("org/sharded")}))
    with pytest.raises(ValueError, match=r"not initialized.*params.layer1_b"):
        loader.load_weights(model, types.SimpleNamespace(quantization=None))


def test_bad_configurations_fail_at_construction(vllm, server, monkeypatch):
    entry_point().load()()
    monkeypatch.delenv("WEIGHTSERVER_URI", raising=False)

    def make(extra):
        return vllm.get_model_loader(types.SimpleNamespace(
            load_format="weightserver", model_loader_extra_config=extra))

    with pytest.raises(ValueError, match="needs the model's URI"):
        make({})
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['urii'\]"):
        make({"uri": server.uri("org/sharded"), "urii": 1})
    with pytest.raises(ws.WeightserverError) as e:
        make({"uri": "http://not-a-weightserver/x"})
    assert e.value.code == "INVALID_ARGUMENT"
    monkeypatch.setenv("WEIGHTSERVER_URI", server.uri("org/sharded"))
    rev = ws.model_revision(server.uri("org/sharded"))
    # Pinned: config and weights of one revision.
    assert make(None).uri == server.uri("org/sharded") + "@" + rev
    assert make({"uri": server.uri("org/sharded") + "@" + rev}).uri.count("@") == 1
    with pytest.raises(ws.WeightserverError) as e:
        make({"uri": server.uri("org/sharded") + "@0000000000000000"})
    assert e.value.code == "FAILED_PRECONDITION"


def test_without_vllm_register_says_what_is_missing(monkeypatch):
    for name in list(sys.modules):
        if name.startswith("vllm.") or name == "weightserver.vllm":
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm fails.
    mod = importlib.import_module("weightserver.vllm")
    # vLLM runs every installed plugin: an old vLLM must still start.
    with pytest.warns(UserWarning, match="needs vLLM >= 0.10.2"):
        assert mod.register() is None
    with pytest.raises(ImportError, match="needs vLLM >= 0.10.2"):
        mod._make_loader_class()
