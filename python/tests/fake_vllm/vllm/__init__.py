# Copyright 2026 The Weightserver Authors.
"""A stand-in for the parts of vLLM a model-loader plugin touches, written
from vLLM's documented interface (vllm/model_executor/model_loader/__init__.py
and base_loader.py of vLLM 0.10.2 - 0.11): vLLM needs a GPU and cannot run on
the test machines. Only tests put this directory on sys.path."""
