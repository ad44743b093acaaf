# Copyright 2026 The Weightserver Authors.
"""weightserver: model weights from a weightserver, verified, zero copy.

The API follows the reference ``safetensors`` package (``safe_open``,
``get_tensor``, ``get_slice``, ``load_file``), over a model URI instead of a
file::

    import weightserver as ws

    uri = "weightserver://10.0.0.5:50051/org/llama"
    with ws.safe_open(uri, framework="pt") as f:
        f.keys(); f.metadata()
        w = f.get_tensor("lm_head.weight")
        q = f.get_slice("q_proj.weight")[:, 1024:2048]   # cut by the server
    tensors = ws.load(uri, framework="np")
    for name, t in ws.iter_tensors(uri, framework="pt", shard=ws.Shard(1, rank, world)):
        ...

Every chunk's CRC32C is checked on the destination bytes before a tensor is
returned. Arrays and tensors are views of the memory the bytes were received
into (no copy); that memory is freed when the last view of it is gone. The
GIL is released while bytes move. Every failure raises
:class:`WeightserverError`, whose ``code`` is the gRPC status code's name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from . import _core
from ._errors import WeightserverError

__all__ = [
    "WeightserverError", "Shard", "ModelUri", "parse_uri", "safe_open", "load",
    "iter_tensors", "shard_dim", "shard_fused", "list_models", "tune_malloc",
    "configure",
    "download_config", "read_file", "model_revision",
]
__version__ = "0.2.0"

Selection = List[List[Tuple[int, int]]]


@dataclass(frozen=True)
class ModelUri:
    """A parsed model URI: ``weightserver://HOST[:PORT]/MODEL[@REVISION]``."""
    target: str    # gRPC target ("host:port", "unix:/path")
    model: str     # model name on the server
    revision: str  # "" for any


def parse_uri(uri: str) -> ModelUri:
    """Parses a model URI (``weightserver://HOST[:PORT]/MODEL[@REVISION]`` or
    ``weightserver+unix://SOCKET/MODEL[@REVISION]``, SOCKET percent-encoded).

    Raises WeightserverError (code INVALID_ARGUMENT) naming what is wrong.
    """
    return ModelUri(*_core.parse_uri(uri))


@dataclass(frozen=True)
class Shard:
    """Rank ``rank`` of ``world``'s even part of dimension ``dim`` (negative
    counts from the end). Applied by ``iter_tensors``/``load`` to every tensor
    whose dimension splits evenly; the others are loaded whole."""
    dim: int
    rank: int
    world: int


def shard_dim(shape: Sequence[int], dim: int, rank: int, world: int) -> Selection:
    """The selection of rank ``rank`` of ``world`` along ``dim`` (as C++ ShardDim).
    Raises WeightserverError when the dimension is not a multiple of ``world``."""
    return _core.shard_dim(list(shape), dim, rank, world)


def shard_fused(shape: Sequence[int], dim: int, block_sizes: Sequence[int],
                rank: int, world: int) -> Selection:
    """Each of the consecutive ``block_sizes`` blocks along ``dim`` (a fused QKV
    weight) sharded like ``shard_dim``, the rank's parts concatenated."""
    return _core.shard_fused(list(shape), dim, list(block_sizes), rank, world)


# -- dtypes -----------------------------------------------------------------

_NP_PLAIN = {
    "BOOL": "bool", "U8": "uint8", "I8": "int8", "I16": "int16", "U16": "uint16",
    "F16": "float16", "I32": "int32", "U32": "uint32", "F32": "float32",
    "F64": "float64", "I64": "int64", "U64": "uint64", "C64": "complex64",
}
_NP_ML_DTYPES = {
    "BF16": "bfloat16", "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2",
    "F8_E8M0": "float8_e8m0fnu", "F8_E4M3FNUZ": "float8_e4m3fnuz",
    "F8_E5M2FNUZ": "float8_e5m2fnuz",
}
_TORCH = {
    "BOOL": "bool", "U8": "uint8", "I8": "int8", "I16": "int16", "U16": "uint16",
    "F16": "float16", "BF16": "bfloat16", "I32": "int32", "U32": "uint32",
    "F32": "float32", "F64": "float64", "I64": "int64", "U64": "uint64",
    "C64": "complex64", "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2",
    "F8_E8M0": "float8_e8m0fnu", "F8_E4M3FNUZ": "float8_e4m3fnuz",
    "F8_E5M2FNUZ": "float8_e5m2fnuz",
}


def _numpy_dtype(dtype: str):
    import numpy as np
    if dtype in _NP_PLAIN:
        return np.dtype(_NP_PLAIN[dtype])
    if dtype in _NP_ML_DTYPES:
        try:
            import ml_dtypes
        except ImportError:
            raise TypeError(
                f"numpy has no {dtype} dtype: install ml_dtypes "
                f"(pip install ml_dtypes), or use framework='pt'") from None
        name = _NP_ML_DTYPES[dtype]
        if not hasattr(ml_dtypes, name):
            raise TypeError(f"this ml_dtypes has no {name} (for {dtype}): upgrade it")
        return np.dtype(getattr(ml_dtypes, name))
    raise TypeError(f"numpy cannot hold {dtype} (a sub-byte dtype): "
                    f"load it with framework='pt' or as raw bytes")


def _torch_dtype(dtype: str):
    import torch
    name = _TORCH.get(dtype)
    if name is None or not hasattr(torch, name):
        raise TypeError(f"this torch ({torch.__version__}) has no dtype for {dtype}")
    return getattr(torch, name)


def _framework(framework: str) -> str:
    if framework in ("np", "numpy"):
        return "np"
    if framework in ("pt", "torch"):
        return "pt"
    raise ValueError(f"framework must be 'np' or 'pt', not {framework!r}")


def _device(framework: str, device: Union[str, int, None]) -> int:
    if device is None:
        return -1
    if isinstance(device, bool):
        raise TypeError("device must be 'cpu', 'cuda', 'cuda:N' or an int")
    index = device if isinstance(device, int) else _core.parse_device(str(device))
    if index >= 0 and framework == "np":
        raise ValueError(f"device={device!r}: numpy arrays live in host memory; "
                         f"use framework='pt' for GPU memory")
    return index


def _view(table, i: int, framework: str):
    """Output i of a loaded table as an array/tensor viewing its memory."""
    dtype, shape = table.dtype(i), tuple(table.shape(i))
    if framework == "np":
        return _core.Table.numpy(table, i).view(_numpy_dtype(dtype)).reshape(shape)
    return _core.Table.torch(table, i).view(_torch_dtype(dtype)).reshape(shape)


# -- loading ----------------------------------------------------------------

_CREDENTIALS: Dict[str, Any] = {}


def configure(*, token: Optional[str] = None, token_file: Optional[str] = None,
              tls: Optional[bool] = None, tls_ca: Optional[str] = None,
              tls_cert: Optional[str] = None, tls_key: Optional[str] = None,
              tls_server_name: Optional[str] = None,
              allow_insecure_token: Optional[bool] = None) -> None:
    """Sets the credentials of every later connection of this process.

    Each setting not given here comes from the environment:
    ``WEIGHTSERVER_TOKEN`` (or ``WEIGHTSERVER_TOKEN_FILE``),
    ``WEIGHTSERVER_TLS_CA``, ``WEIGHTSERVER_TLS_CERT``,
    ``WEIGHTSERVER_TLS_KEY``, ``WEIGHTSERVER_TLS_SERVER_NAME`` (any of the
    TLS ones turns TLS on; ``WEIGHTSERVER_TLS=1`` alone verifies against the
    system's roots). A token is refused over plaintext to anything but
    loopback unless ``allow_insecure_token``. See the README's "Security".

    Example::

        ws.configure(token_file="/var/run/secrets/weights/token",
                     tls_ca="/etc/weights/ca.pem")
    """
    if token_file is not None:
        with open(token_file) as f:
            token = f.read().rstrip("\r\n")
    for k, v in (("token", token), ("tls", tls), ("tls_ca", tls_ca),
                 ("tls_cert", tls_cert), ("tls_key", tls_key),
                 ("tls_server_name", tls_server_name),
                 ("allow_insecure_token", allow_insecure_token)):
        if v is not None:
            _CREDENTIALS[k] = v


def _credentials() -> Dict[str, Any]:
    env = os.environ
    c: Dict[str, Any] = {}
    token = env.get("WEIGHTSERVER_TOKEN", "")
    if not token and env.get("WEIGHTSERVER_TOKEN_FILE"):
        with open(env["WEIGHTSERVER_TOKEN_FILE"]) as f:
            token = f.read().rstrip("\r\n")
    c["token"] = token
    for k in ("tls_ca", "tls_cert", "tls_key", "tls_server_name"):
        c[k] = env.get("WEIGHTSERVER_" + k.upper(), "")
    c["tls"] = env.get("WEIGHTSERVER_TLS", "") not in ("", "0") or any(
        c[k] for k in ("tls_ca", "tls_cert", "tls_key", "tls_server_name"))
    c["allow_insecure_token"] = False
    c.update(_CREDENTIALS)
    if any(c.get(k) for k in ("tls_ca", "tls_cert", "tls_key", "tls_server_name")):
        c["tls"] = True
    return c


def _connect(target: str, streams: int, connections: int) -> "_core.Client":
    return _core.Client(target, streams=streams, connections=connections,
                        **_credentials())


def tune_malloc() -> None:
    """Tunes glibc malloc for streaming gigabytes (no mmap/trim thresholds,
    one arena), as weightctl does: call it first thing in a loader process.
    It changes malloc for the whole process, so it is not done on import."""
    _core.tune_malloc()


def list_models(target: str) -> List["_core.ModelSummary"]:
    """Every model of the server at ``target`` ("host:port" or a URI's target)."""
    return _connect(target, 1, 1).list_models()


def _shard_selection(shard: Union[Shard, Callable, None], name: str,
                     shape: List[int]) -> Selection:
    if shard is None:
        return []
    if callable(shard) and not isinstance(shard, Shard):
        return shard(name, list(shape)) or []
    if shard.world < 1 or not 0 <= shard.rank < shard.world:
        raise ValueError(f"{shard}: need world >= 1 and 0 <= rank < world")
    rank = len(shape)
    dim = shard.dim + rank if shard.dim < 0 else shard.dim
    if not 0 <= dim < rank or shape[dim] % shard.world != 0:
        return []  # Not split along this dimension: whole.
    return shard_dim(shape, shard.dim, shard.rank, shard.world)


class _Model:
    """A connection and a model's table of contents, revision pinned."""

    def __init__(self, uri: str, streams: int, connections: int):
        u = parse_uri(uri)
        self.uri = u
        self.client = _connect(u.target, streams, connections)
        self.info = self.client.get_model(u.model, u.revision)
        self.by_name = {t.name: t for t in self.info.tensors}

    def tensor(self, name: str):
        t = self.by_name.get(name)
        if t is None:
            raise WeightserverError(
                "NOT_FOUND", 5, f"model '{self.info.name}' has no tensor '{name}'")
        return t

    def load(self, items: List[Tuple[str, Selection]], framework: str,
             device: int) -> Dict[str, Any]:
        table = self.client.load(self.info, items, device)
        return {table.name(i): _view(table, i, framework) for i in range(len(table))}


def load(uri: str, framework: str = "np", device: Union[str, int] = "cpu", *,
         tensors: Optional[Sequence[str]] = None,
         shard: Union[Shard, Callable, None] = None,
         streams: int = 4, connections: int = 2) -> Dict[str, Any]:
    """Loads a model (or the ``tensors`` named) into one block of memory.

    Returns {name: array or tensor}. With ``shard``, each tensor that splits
    evenly along the shard's dimension is only the rank's part (cut by the
    server); ``shard`` may also be a callable (name, shape) -> selection.

    Example::

        sd = ws.load("weightserver://h/m", framework="pt")
        model.load_state_dict(sd)
    """
    fw = _framework(framework)
    dev = _device(fw, device)
    m = _Model(uri, streams, connections)
    names = list(tensors) if tensors is not None else [t.name for t in m.info.tensors]
    items = [(n, _shard_selection(shard, n, list(m.tensor(n).shape))) for n in names]
    return m.load(items, fw, dev)


def iter_tensors(uri: str, framework: str = "np", device: Union[str, int] = "cpu", *,
                 tensors: Optional[Sequence[str]] = None,
                 shard: Union[Shard, Callable, None] = None,
                 batch_bytes: int = 256 << 20,
                 streams: int = 4, connections: int = 2
                 ) -> Iterator[Tuple[str, Any]]:
    """Yields (name, tensor) in file order, each as soon as its bytes are verified.

    Tensors are fetched in batches of about ``batch_bytes`` (a bigger tensor
    is a batch of its own). Within a batch each tensor is yielded once its
    own bytes are in place (for a GPU device: copied), while the rest of the
    batch is still on the way; the next batch starts once the current one has
    arrived, so at most two batches are in memory beyond what the caller
    keeps. Suits ``model.load_weights(iter_tensors(...))``. A consumer that
    stops early stops the fetch.
    """
    fw = _framework(framework)
    dev = _device(fw, device)
    m = _Model(uri, streams, connections)
    names = list(tensors) if tensors is not None else [t.name for t in m.info.tensors]
    batches: List[List[Tuple[str, Selection]]] = [[]]
    size = 0
    for n in names:
        t = m.tensor(n)
        sel = _shard_selection(shard, n, list(t.shape))
        nbytes = _core.measure(m.info, n, sel)[1]
        if batches[-1] and size + nbytes > batch_bytes:
            batches.append([])
            size = 0
        batches[-1].append((n, sel))
        size += nbytes
    if not batches[-1]:
        return

    current = m.client.start_load(m.info, batches[0], dev)
    following = None
    try:
        for k in range(len(batches)):
            table = current.table
            for i in range(len(table)):
                current.wait(i)  # GIL released; raises the load's error.
                if following is None and k + 1 < len(batches) and current.done():
                    following = m.client.start_load(m.info, batches[k + 1], dev)
                yield table.name(i), _view(table, i, fw)
            current.wait_all()
            if following is None and k + 1 < len(batches):
                following = m.client.start_load(m.info, batches[k + 1], dev)
            current, following = following, None
    finally:
        # A consumer that stops early (or an error) stops what is in flight;
        # the views already yielded keep their memory.
        for p in (current, following):
            if p is not None:
                p.cancel()


# -- the model's other files ----------------------------------------------------

def download_config(uri: str, dir: Union[str, "os.PathLike[str]"]) -> str:
    """Writes the model's non-weight files (config.json, generation_config.json,
    tokenizer files, chat templates, ...: everything the server lists but the
    weights) into ``dir`` (created if missing), each verified and renamed into
    place. Returns ``dir`` as a string, ready to be an engine's model path::

        path = ws.download_config(uri, "/tmp/llama")
        config = transformers.AutoConfig.from_pretrained(path)

    Raises WeightserverError (e.g. FAILED_PRECONDITION when a file changed on
    the server since its table of contents was read).
    """
    import os
    path = os.fspath(dir)
    m = _Model(uri, 1, 1)
    m.client.download_extra_files(m.info, path)
    return path


def model_revision(uri: str) -> str:
    """The revision of the model a URI names (checked against its @REVISION,
    if any): append it as ``uri + "@" + rev`` to pin later calls."""
    return _Model(uri, 1, 1).info.revision


def read_file(uri: str, name: str) -> bytes:
    """The bytes of one of the model's non-weight files (``"config.json"``)."""
    m = _Model(uri, 1, 1)
    return m.client.read_file(m.info, name)


# -- safe_open ----------------------------------------------------------------

def _normalize(key, shape: List[int]) -> Tuple[Selection, List[int]]:
    """A numpy-style index -> (selection, dimensions to drop)."""
    if not isinstance(key, tuple):
        key = (key,)
    if sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if Ellipsis in key:
        at = key.index(Ellipsis)
        fill = len(shape) - (len(key) - 1)
        key = key[:at] + (slice(None),) * max(fill, 0) + key[at + 1:]
    if len(key) > len(shape):
        raise IndexError(f"too many indices: {len(key)} for a tensor of rank {len(shape)}")
    sel: Selection = []
    drop: List[int] = []
    for d, k in enumerate(key):
        n = shape[d]
        if isinstance(k, slice):
            if k.step not in (None, 1):
                raise ValueError(
                    f"dimension {d}: step {k.step} is not supported (a weightserver "
                    f"slice is contiguous ranges; take [::{k.step}] of the result)")
            start, stop, _ = k.indices(n)
            sel.append([(start, max(start, stop))])
        elif isinstance(k, bool):
            raise TypeError(f"dimension {d}: a bool index is a mask in numpy; "
                            f"masks are not supported")
        elif isinstance(k, int) or hasattr(k, "__index__"):
            i = int(k.__index__())
            if i < -n or i >= n:
                raise IndexError(f"index {i} is out of bounds for dimension {d} of size {n}")
            i %= n
            sel.append([(i, i + 1)])
            drop.append(d)
        else:
            raise TypeError(f"dimension {d}: cannot index with {type(k).__name__} "
                            f"(ints, slices with step 1 and ... only)")
    sel += [[] for _ in range(len(shape) - len(sel))]
    return sel, drop


class _Slice:
    """A tensor not yet fetched: ``get_shape()``, ``get_dtype()``, and
    indexing, which fetches only the selected part."""

    def __init__(self, handle: "safe_open", name: str):
        self._h = handle
        self._t = handle._model.tensor(name)

    def get_shape(self) -> List[int]:
        return list(self._t.shape)

    def get_dtype(self) -> str:
        return self._t.dtype

    def __getitem__(self, key):
        shape = list(self._t.shape)
        sel, drop = _normalize(key, shape)
        out = self._h._model.load([(self._t.name, sel)], self._h._fw, self._h._dev)
        t = out[self._t.name]
        if drop:
            kept = [n for d, n in enumerate(t.shape) if d not in drop]
            t = t.reshape(tuple(kept))
        return t


class safe_open:
    """Opens a model on a weightserver like ``safetensors.safe_open`` opens a
    file: the table of contents is fetched once and its revision pinned for
    the life of the handle (a model replaced meanwhile fails the next fetch
    with FAILED_PRECONDITION, never mixes versions).

    Example::

        with ws.safe_open("weightserver://h:50051/m", framework="np") as f:
            for k in f.keys():
                t = f.get_tensor(k)
    """

    def __init__(self, uri: str, framework: str = "np", device: Union[str, int] = "cpu",
                 *, streams: int = 4, connections: int = 2):
        self._fw = _framework(framework)
        self._dev = _device(self._fw, device)
        self._model = _Model(uri, streams, connections)

    def __enter__(self) -> "safe_open":
        return self

    def __exit__(self, *exc) -> None:
        return None

    @property
    def revision(self) -> str:
        return self._model.info.revision

    def keys(self) -> List[str]:
        """Tensor names, sorted (as the reference's keys())."""
        return sorted(self._model.by_name)

    def offset_keys(self) -> List[str]:
        """Tensor names in file order, then data order."""
        return [t.name for t in self._model.info.tensors]

    def metadata(self) -> Optional[Dict[str, str]]:
        """The ``__metadata__`` of the model's files, merged (None when none has any)."""
        merged: Dict[str, str] = {}
        seen = False
        for f in self._model.info.files:
            if f.metadata is not None:
                seen = True
                merged.update(f.metadata)
        return merged if seen else None

    def extra_files(self) -> List[str]:
        """The model's non-weight files (config.json, tokenizer.json, ...)."""
        return [f.name for f in self._model.info.extra_files]

    def read_file(self, name: str) -> bytes:
        """One of ``extra_files()``, verified, of the pinned revision."""
        return self._model.client.read_file(self._model.info, name)

    def get_tensor(self, name: str):
        """The whole tensor ``name``, verified."""
        self._model.tensor(name)
        return self._model.load([(name, [])], self._fw, self._dev)[name]

    def get_slice(self, name: str) -> _Slice:
        """A lazy slice handle: ``f.get_slice(name)[:, 0:128]``."""
        return _Slice(self, name)
