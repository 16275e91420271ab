"""Questions embedded in numpy, without torch: what lets `replyqa ask` and the page answer
without importing torch, transformers and sentence-transformers (~12 s and ~1.1 GB).

A question is one sequence of ~20 tokens; a BERT forward pass over it is a few dozen small
matrix products: in numpy float32 a few milliseconds slower than torch's bf16 (it reads twice
the bytes; figures in the README), with nothing heavy to import first. The weights are read from the folder's
`model.safetensors` memory-mapped and never copied: the encoder layers (85 MB) are paged in on
the first question and shared with every other process that maps the file, and of the 250 k ×
384 word-embedding table (384 MB) only the rows of the tokens asked about are ever read.

Only folders of the architecture this code computes are taken (`check_folder` says why not):
a BERT or XLM-R encoder with absolute positions and GELU, then mean pooling over all tokens
and normalisation — the sentence-transformers folder `index.embedding.export` writes, and
models like it. Anything else keeps the torch path.
"""

from __future__ import annotations

import json
import math
import mmap
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.embedding.embedder import resolve_prompts

MODEL_TYPES = ("bert", "xlm-roberta")
GELU_ERF = ("gelu",)
GELU_TANH = ("gelu_new", "gelu_pytorch_tanh", "gelu_fast")
_MODULES = ("Transformer", "Pooling", "Normalize")
_POOLING_MODES = ("cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens", "weightedmean_tokens",
                  "lasttoken")
_NORMS = ("attention.output.LayerNorm", "output.LayerNorm")
PROBE = "2019年全省建成多少5G基站？"
PROBE_TOLERANCE = 1e-4
"""Hidden states of the graph and of numpy differ by summation order only (~1e-6 measured)."""


class NotLight(Exception):
    """The folder is not one this encoder computes exactly; the message says why."""


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NotLight(f"{path.name}: {exc}") from exc


@dataclass(frozen=True)
class Shape:
    """What the forward pass needs from config.json and the sentence-transformers configs."""

    model_type: str
    layers: int
    hidden: int
    heads: int
    eps: float
    tanh_gelu: bool
    position_offset: int
    max_tokens: int
    query_prompt: str
    document_prompt: str


def _shape(folder: Path) -> Shape:
    """The folder's architecture, or NotLight naming the first thing this encoder does not do."""
    modules = _json(folder / "modules.json")
    kinds = tuple(str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules) if isinstance(modules, list) else ()
    if kinds != _MODULES or str(modules[0].get("path", "")) not in ("", "."):
        raise NotLight(f"modules are {kinds}, not {_MODULES}")
    pooling = _json(folder / str(modules[1].get("path", "")) / "config.json")
    modes = {m for m in _POOLING_MODES if pooling.get(f"pooling_mode_{m}")}
    if modes != {"mean_tokens"} or not pooling.get("include_prompt", True):
        raise NotLight(f"pooling is {sorted(modes)} (include_prompt={pooling.get('include_prompt', True)})")
    config = _json(folder / "config.json")
    kind, act = config.get("model_type"), config.get("hidden_act")
    if kind not in MODEL_TYPES or act not in GELU_ERF + GELU_TANH:
        raise NotLight(f"model_type {kind!r} with hidden_act {act!r}")
    if config.get("position_embedding_type", "absolute") != "absolute" or config.get("is_decoder"):
        raise NotLight("positions are not absolute, or the model is a decoder")
    if int(config["hidden_size"]) % int(config["num_attention_heads"]):
        raise NotLight("hidden_size is not a multiple of num_attention_heads")
    sbert = _json(folder / "sentence_bert_config.json") if (folder / "sentence_bert_config.json").is_file() else {}
    if sbert.get("do_lower_case"):
        raise NotLight("do_lower_case")
    tokenizer_config = _json(folder / "tokenizer_config.json") if (folder / "tokenizer_config.json").is_file() else {}
    # As sentence-transformers sets it: its own max_seq_length, else the tokenizer's, capped
    # at the position table (XLM-R's first pad_token_id + 1 positions are never used).
    offset = int(config.get("pad_token_id", 1)) + 1 if kind == "xlm-roberta" else 0
    positions = int(config["max_position_embeddings"])
    wanted = sbert.get("max_seq_length") or tokenizer_config.get("model_max_length") or positions
    saved = _json(folder / "config_sentence_transformers.json") if (
        folder / "config_sentence_transformers.json").is_file() else {}
    query_prompt, document_prompt = resolve_prompts(saved.get("prompts") or {})
    return Shape(
        model_type=str(kind),
        layers=int(config["num_hidden_layers"]),
        hidden=int(config["hidden_size"]),
        heads=int(config["num_attention_heads"]),
        eps=float(config.get("layer_norm_eps", 1e-12)),
        tanh_gelu=act in GELU_TANH,
        position_offset=offset,
        max_tokens=min(int(wanted), positions, positions - offset),
        query_prompt=str(query_prompt),
        document_prompt=str(document_prompt),
    )


def _mapped_tensors(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file as a read-only view of the mapped file (the format:
    an 8-byte little-endian header length, a JSON header of dtype, shape and byte offsets,
    then the data)."""
    try:
        with path.open("rb") as f:
            size = int.from_bytes(f.read(8), "little")
            header = json.loads(f.read(size))
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as exc:
        raise NotLight(f"{path.name}: {exc}") from exc
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise NotLight(f"{name} is {info['dtype']}, not F32")
        begin, end = info["data_offsets"]
        count = (end - begin) // 4
        out[name] = np.frombuffer(mapped, "<f4", count, 8 + size + begin).reshape(info["shape"])
    return out


_Pair = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class EncoderLayer:
    q: _Pair
    k: _Pair
    v: _Pair
    out: _Pair
    up: _Pair
    down: _Pair
    norm1: _Pair
    norm2: _Pair


@dataclass(frozen=True)
class EncoderWeights:
    word: np.ndarray
    position: np.ndarray
    type0: np.ndarray
    norm: _Pair
    layers: list[EncoderLayer]


def _weights(folder: Path, shape: Shape) -> EncoderWeights:
    """The mapped weights, every tensor checked against the configured sizes. Checkpoints
    saved from a task model name everything under "bert." or "roberta."."""
    tensors = _mapped_tensors(folder / "model.safetensors")
    word = next((n for n in tensors if n.endswith("embeddings.word_embeddings.weight")), None)
    if word is None:
        raise NotLight("no embeddings.word_embeddings.weight")
    prefix = word[: -len("embeddings.word_embeddings.weight")]
    h = shape.hidden

    def get(name: str, *size: int) -> np.ndarray:
        """The tensor, of exactly `size` when given, else a table of `hidden` columns."""
        tensor = tensors.get(prefix + name)
        fits = tensor is not None and (tensor.shape == size if size else tensor.ndim == 2 and tensor.shape[1] == h)
        if tensor is None or not fits:
            raise NotLight(f"{prefix + name} is {None if tensor is None else tensor.shape}, not {size or ('*', h)}")
        return tensor

    ffn = get("encoder.layer.0.intermediate.dense.weight").shape[0]
    sizes = {"attention.self.query": (h, h), "attention.self.key": (h, h), "attention.self.value": (h, h),
             "attention.output.dense": (h, h), "intermediate.dense": (ffn, h), "output.dense": (h, ffn)}
    layers = []
    for i in range(shape.layers):
        at = f"encoder.layer.{i}."
        pairs = [(get(f"{at}{part}.weight", *size), get(f"{at}{part}.bias", size[0])) for part, size in sizes.items()]
        pairs += [(get(f"{at}{norm}.weight", h), get(f"{at}{norm}.bias", h)) for norm in _NORMS]
        layers.append(EncoderLayer(*pairs))
    if f"{prefix}encoder.layer.{shape.layers}.output.dense.weight" in tensors:
        raise NotLight(f"more encoder layers than num_hidden_layers={shape.layers}")
    position = get("embeddings.position_embeddings.weight")
    if position.shape[0] < shape.max_tokens + shape.position_offset:
        raise NotLight(f"{position.shape[0]} positions for {shape.max_tokens} tokens")
    return EncoderWeights(
        word=get("embeddings.word_embeddings.weight"),
        position=position,
        type0=get("embeddings.token_type_embeddings.weight")[0],
        norm=(get("embeddings.LayerNorm.weight", h), get("embeddings.LayerNorm.bias", h)),
        layers=layers,
    )


class QueryEncoder:
    """One question in, its unit vector out, as sentence-transformers' float32 `encode_query`
    gives it (same prompt, tokens, truncation, pooling). Safe to call from several threads at
    once: the tokenizer and weights are only read.

    With `graph_cache` (a folder) the layers run in onnxruntime over a graph of these weights
    kept there (`index.embedding.query_graph`), else — or when onnxruntime cannot — in numpy."""

    def __init__(self, folder: Path, *, graph_cache: Path | None = None) -> None:
        from tokenizers import Tokenizer

        from index.embedding.query_graph import open_session

        folder = Path(folder)
        self.shape = light_shape(folder)
        self.query_prompt = self.shape.query_prompt
        self.dimension = self.shape.hidden
        self._weights = _weights(folder, self.shape)
        try:
            self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as exc:  # tokenizers raises its own exception type for a bad file
            raise NotLight(f"tokenizer.json: {exc}") from exc
        # Set once here and never again: changing it while another thread encodes would race.
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=self.shape.max_tokens)
        self._blas = _OneBlasThread()
        self._session: Any = None
        if graph_cache is not None:
            self._session = open_session(graph_cache, folder, self.shape, self._weights, self._agrees)

    def token_ids(self, text: str) -> list[int]:
        return list(self._tokenizer.encode(self.query_prompt + text).ids)

    @property
    def engine(self) -> str:
        """What runs the layers: "onnxruntime" or "numpy" (for the README's claims and tests)."""
        return "numpy" if self._session is None else "onnxruntime"

    def encode(self, text: str, *, engine: str | None = None) -> np.ndarray:
        """`engine="numpy"` forces the numpy layers (the reference the graph is checked against)."""
        ids = np.asarray(self.token_ids(text), dtype=np.int64)
        x = self._embeddings(ids)
        if self._session is not None and engine != "numpy":
            hidden = self._session.run(["out"], {"hidden": x})[0]
        else:
            with self._blas:
                hidden = self._layers(x)
        pooled = hidden.mean(axis=0)
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)

    def _agrees(self, session: Any) -> bool:
        """Whether the graph gives the numpy layers' hidden states for a probe question (one
        numpy pass, ~25 ms at start-up): a graph file that is damaged in place would otherwise
        embed every question wrongly without an error."""
        x = self._embeddings(np.asarray(self.token_ids(PROBE), dtype=np.int64))
        with self._blas:
            expected = self._layers(x)
        got = session.run(["out"], {"hidden": x})[0]
        return bool(got.shape == expected.shape and np.abs(got - expected).max() <= PROBE_TOLERANCE)

    def _embeddings(self, ids: np.ndarray) -> np.ndarray:
        s, w = self.shape, self._weights
        positions = np.arange(len(ids)) + s.position_offset
        x = w.word[ids] + w.position[positions] + w.type0
        return np.ascontiguousarray(_layer_norm(x, *w.norm, s.eps), dtype=np.float32)

    def _layers(self, x: np.ndarray) -> np.ndarray:
        s, w = self.shape, self._weights
        n = len(x)
        head = s.hidden // s.heads
        scale = np.float32(1.0 / math.sqrt(head))
        for layer in w.layers:
            q, k, v = (_linear(x, *pair).reshape(n, s.heads, head).transpose(1, 0, 2)
                       for pair in (layer.q, layer.k, layer.v))
            scores = (q @ k.transpose(0, 2, 1)) * scale
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, s.hidden)
            x = _layer_norm(_linear(context, *layer.out) + x, *layer.norm1, s.eps)
            up = _linear(x, *layer.up)
            x = _layer_norm(_linear(_gelu_tanh(up) if s.tanh_gelu else _gelu(up), *layer.down) + x, *layer.norm2, s.eps)
        return x


def _linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """x·Wᵀ + b computed as (W·xᵀ)ᵀ: the mapped (out, in) weight is then read row by row, as
    OpenBLAS likes it; `x @ weight.T` over it measured ~1.7× slower (a transposed copy would
    be as quick but 85 MB of private memory in every process)."""
    out = (weight @ x.T).T
    out += bias
    return out


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + np.float32(eps)) * weight + bias


_SQRT_HALF = np.float32(math.sqrt(0.5))
_AS = tuple(np.float32(c) for c in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592))


def _gelu(x: np.ndarray) -> np.ndarray:
    """x·Φ(x) with erf (HF's "gelu"). numpy has no erf; this is Abramowitz & Stegun 7.1.26
    (absolute error ≤ 1.5e-7), the same approximation torch's vectorised CPU erf uses."""
    z = np.abs(x) * _SQRT_HALF
    t = np.float32(1.0) / (np.float32(1.0) + np.float32(0.3275911) * z)
    poly = _AS[0]
    for c in _AS[1:]:
        poly = poly * t + c
    erf = np.float32(1.0) - poly * t * np.exp(-z * z)
    return np.float32(0.5) * x * (np.float32(1.0) + np.copysign(erf, x))


def _gelu_tanh(x: np.ndarray) -> np.ndarray:
    inner = np.float32(math.sqrt(2.0 / math.pi)) * (x + np.float32(0.044715) * x * x * x)
    return np.float32(0.5) * x * (np.float32(1.0) + np.tanh(inner))


class _OneBlasThread:
    """numpy's BLAS on one thread while any question is being encoded, restored when the last
    one ends. On an idle 2-core machine two threads encode ~1.5× quicker, but beside one other
    busy process OpenBLAS's spinning threads made the median ~10× slower (measured; see the
    README), and the page encodes several questions at once anyway. The limit is per process,
    so concurrent callers share it: counted, not nested."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._limiter: Any = None
        self._controller: Any = None

    def __enter__(self) -> None:
        with self._lock:
            if self._inside == 0:
                if self._controller is None:
                    from threadpoolctl import ThreadpoolController

                    self._controller = ThreadpoolController()
                self._limiter = self._controller.limit(limits=1, user_api="blas")
            self._inside += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._inside -= 1
            if self._inside == 0 and self._limiter is not None:
                self._limiter.restore_original_limits()
                self._limiter = None


def light_shape(folder: Path) -> Shape:
    """The folder's architecture from its configs; NotLight when this encoder does not
    compute it."""
    try:
        return _shape(Path(folder))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise NotLight(f"{type(exc).__name__}: {exc}") from exc


def check_folder(folder: Path) -> Shape:
    """`light_shape`, and the weights' names, sizes and dtype checked too (their header only:
    milliseconds), so that a folder taken here does not fail at its first question."""
    shape = light_shape(folder)
    _weights(Path(folder), shape)
    if not (Path(folder) / "tokenizer.json").is_file():
        raise NotLight("no tokenizer.json")
    return shape
