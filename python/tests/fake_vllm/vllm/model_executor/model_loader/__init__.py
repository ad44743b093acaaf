# Copyright 2026 The Weightserver Authors.
"""As vLLM's registry: register_model_loader(format) is a class decorator
that refuses non-BaseModelLoader classes and warns when a format is
registered twice; get_model_loader(load_config) instantiates the class of
load_config.load_format."""
import warnings

from .base_loader import BaseModelLoader

_LOAD_FORMAT_TO_MODEL_LOADER = {}
registrations = []  # (format, class), for tests.


def register_model_loader(load_format: str):
    def _wrapper(model_loader_cls):
        if load_format in _LOAD_FORMAT_TO_MODEL_LOADER:
            warnings.warn(f"Load format `{load_format}` is already registered, "
                          f"and will be overwritten by {model_loader_cls}")
        if not issubclass(model_loader_cls, BaseModelLoader):
            raise ValueError("The model loader must be a subclass of `BaseModelLoader`.")
        _LOAD_FORMAT_TO_MODEL_LOADER[load_format] = model_loader_cls
        registrations.append((load_format, model_loader_cls))
        return model_loader_cls
    return _wrapper


def get_model_loader(load_config) -> BaseModelLoader:
    load_format = load_config.load_format
    if load_format not in _LOAD_FORMAT_TO_MODEL_LOADER:
        raise ValueError(f"Load format `{load_format}` is not supported")
    return _LOAD_FORMAT_TO_MODEL_LOADER[load_format](load_config)
