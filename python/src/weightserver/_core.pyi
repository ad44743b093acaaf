# Copyright 2026 The Weightserver Authors.
"""Type stubs for weightserver._core, the binding of the C++ client."""
from typing import Dict, List, Optional, Tuple

Selection = List[List[Tuple[int, int]]]

class ModelFile:
    name: str
    size: int
    header_size: int
    metadata: Optional[Dict[str, str]]

class ExtraFile:
    name: str
    size: int

class ModelTensor:
    name: str
    dtype: str
    shape: List[int]
    file_index: int
    offset: int
    length: int

class ModelInfo:
    name: str
    revision: str
    files: List[ModelFile]
    tensors: List[ModelTensor]
    extra_files: List[ExtraFile]
    sharded: bool
    index_metadata_json: str

class ModelSummary:
    name: str
    revision: str
    file_count: int
    tensor_count: int
    total_tensor_bytes: int
    error: str

class Table:
    total_bytes: int
    device: int
    def __len__(self) -> int: ...
    def name(self, i: int) -> str: ...
    def dtype(self, i: int) -> str: ...
    def shape(self, i: int) -> List[int]: ...
    @staticmethod
    def numpy(table: "Table", i: int): ...
    @staticmethod
    def torch(table: "Table", i: int): ...

class PendingLoad:
    table: Table
    def wait(self, i: int) -> None: ...
    def wait_all(self) -> None: ...
    def done(self) -> bool: ...
    def cancel(self) -> None: ...

class Client:
    target: str
    def __init__(self, target: str, streams: int = 4, connections: int = 2,
                 chunk_bytes: int = 1048576, timeout_s: float = 60.0,
                 token: str = "", tls: bool = False, tls_ca: str = "",
                 tls_cert: str = "", tls_key: str = "",
                 tls_server_name: str = "",
                 allow_insecure_token: bool = False) -> None: ...
    def list_models(self) -> List[ModelSummary]: ...
    def get_model(self, name: str, revision: str = "") -> ModelInfo: ...
    def read_file(self, model: ModelInfo, name: str) -> bytes: ...
    def download_extra_files(self, model: ModelInfo, dir: str) -> None: ...
    def load(self, model: ModelInfo, items: List[Tuple[str, Selection]],
             device: int = -1) -> Table: ...
    def start_load(self, model: ModelInfo, items: List[Tuple[str, Selection]],
                   device: int = -1) -> Optional[PendingLoad]: ...

def tune_malloc() -> None: ...
def parse_uri(uri: str) -> Tuple[str, str, str]: ...
def is_uri(text: str) -> bool: ...
def parse_device(text: str) -> int: ...
def shard_dim(shape: List[int], dim: int, rank: int, world: int) -> Selection: ...
def shard_fused(shape: List[int], dim: int, block_sizes: List[int], rank: int,
                world: int) -> Selection: ...
def measure(model: ModelInfo, name: str, selection: Selection) -> Tuple[List[int], int]: ...
