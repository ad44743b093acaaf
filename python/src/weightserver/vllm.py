# Copyright 2026 The Weightserver Authors.
"""weightserver.vllm: ``--load-format weightserver`` for vLLM.

A vLLM worker gets its weights from a weightserver instead of a file system
or the Hugging Face hub::

    # The config, tokenizer and chat template (vLLM reads them at start-up):
    python -m weightserver download-config weightserver://ws:50051/org/llama /models/llama
    # The weights, streamed into each worker and verified:
    vllm serve /models/llama --load-format weightserver \\
        --model-loader-extra-config '{"uri": "weightserver://ws:50051/org/llama"}'

vLLM calls :func:`register` in every process it starts (the package's
``vllm.general_plugins`` entry point), which registers
:class:`WeightserverModelLoader` under the load format ``weightserver``
through ``vllm.model_executor.model_loader.register_model_loader``.
Registration is idempotent. The loader's ``download_model`` writes the
model's non-weight files into ``model_config.model``; ``load_weights`` feeds
``model.load_weights`` from :func:`weightserver.iter_tensors` (file order,
bounded memory, every chunk verified) and, as vLLM's default loader does,
fails when a parameter was not initialized from the checkpoint. A URI
without ``@REVISION`` is pinned to the model's revision when the loader is
made, so config and weights come from one version. With a vLLM that lacks
the interface, :func:`register` warns and registers nothing.

``--model-loader-extra-config`` keys: ``uri`` (or $WEIGHTSERVER_URI),
``streams`` (4), ``connections`` (2), ``batch_bytes`` (256 MiB). Each
tensor-parallel rank fetches whole tensors, which vLLM's weight loaders
narrow to the rank's part.

Interface: written against vLLM 0.10.2 - 0.11.x (``register_model_loader``
and ``BaseModelLoader`` with ``download_model(model_config)`` and
``load_weights(model, model_config)``); vLLM itself is not a dependency.
"""
from __future__ import annotations

import os
import warnings
from typing import Any, Optional

import weightserver as ws

LOAD_FORMAT = "weightserver"

_loader_cls: Optional[type] = None


def _make_loader_class():
    try:
        from vllm.model_executor.model_loader import register_model_loader
        from vllm.model_executor.model_loader.base_loader import BaseModelLoader
    except ImportError as e:
        raise ImportError(
            "weightserver.vllm needs vLLM >= 0.10.2 (register_model_loader, "
            f"BaseModelLoader): {e}") from e

    class WeightserverModelLoader(BaseModelLoader):
        """Loads a vLLM model's weights from the weightserver model URI given
        as ``--model-loader-extra-config '{"uri": ...}'``."""

        def __init__(self, load_config: Any):
            super().__init__(load_config)
            extra = dict(getattr(load_config, "model_loader_extra_config", None) or {})
            self.uri = extra.pop("uri", None) or os.environ.get("WEIGHTSERVER_URI", "")
            if not self.uri:
                raise ValueError(
                    "--load-format weightserver needs the model's URI: "
                    "--model-loader-extra-config '{\"uri\": "
                    "\"weightserver://HOST:PORT/MODEL\"}' or $WEIGHTSERVER_URI")
            # Config and weights of one revision: pin the URI now (a server
            # whose model is replaced later fails FAILED_PRECONDITION, not
            # mixes versions). A malformed URI fails here, not mid-load.
            revision = ws.model_revision(self.uri)  # Checks an @REVISION.
            if not ws.parse_uri(self.uri).revision:
                self.uri = "%s@%s" % (self.uri, revision)
            self.streams = int(extra.pop("streams", 4))
            self.connections = int(extra.pop("connections", 2))
            self.batch_bytes = int(extra.pop("batch_bytes", 256 << 20))
            if extra:
                raise ValueError(
                    f"--model-loader-extra-config: unknown key(s) {sorted(extra)} "
                    f"for --load-format weightserver (known: uri, streams, "
                    f"connections, batch_bytes)")

        def download_model(self, model_config: Any) -> None:
            ws.download_config(self.uri, model_config.model)

        def load_weights(self, model: Any, model_config: Any) -> None:
            wanted = {name for name, _ in model.named_parameters()}
            weights = ws.iter_tensors(
                self.uri, framework="pt", device="cpu", streams=self.streams,
                connections=self.connections, batch_bytes=self.batch_bytes)
            loaded = model.load_weights(weights)
            if loaded is not None and getattr(model_config, "quantization", None) is None:
                missing = wanted - set(loaded)
                if missing:
                    raise ValueError(
                        f"{self.uri}: these weights were not initialized from "
                        f"the checkpoint: {sorted(missing)}")

    register_model_loader(LOAD_FORMAT)(WeightserverModelLoader)
    return WeightserverModelLoader


def register() -> Optional[type]:
    """Registers ``--load-format weightserver`` (once per process; later calls
    return the same class). Returns the loader class, or None, with a
    warning, when this vLLM lacks the interface: vLLM runs every installed
    plugin at start-up, so an old vLLM must still start."""
    global _loader_cls
    if _loader_cls is None:
        try:
            _loader_cls = _make_loader_class()
        except ImportError as e:
            warnings.warn(f"weightserver: --load-format weightserver not registered: {e}")
            return None
    return _loader_cls
