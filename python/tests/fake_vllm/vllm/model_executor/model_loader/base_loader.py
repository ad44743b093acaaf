# Copyright 2026 The Weightserver Authors.
"""As vLLM's BaseModelLoader: constructed with the LoadConfig; subclasses
implement download_model(model_config) and load_weights(model, model_config)."""
from abc import ABC, abstractmethod


class BaseModelLoader(ABC):
    def __init__(self, load_config):
        self.load_config = load_config

    @abstractmethod
    def download_model(self, model_config) -> None:
        raise NotImplementedError

    @abstractmethod
    def load_weights(self, model, model_config) -> None:
        raise NotImplementedError
