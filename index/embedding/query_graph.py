"""The question encoder's transformer layers as an ONNX graph run by onnxruntime: the same
computation as `QueryEncoder._forward` in numpy, at less than half its CPU a question.

numpy pays for every one of a forward pass's ~400 small operations (a call, temporaries, a
pass over memory each); onnxruntime runs the same graph with its own GEMM kernels and fused
elementwise work (measured in the README: p50 ~11 ms against ~25 ms a question, one thread,
vectors equal to cosine 1 - 1e-7). onnxruntime is already installed as chromadb's dependency;
the `onnx` package that writes the graph takes ~1 s to import, so the graph is written once per
model folder into a cache file (`graph_path`) and every later process only loads it (~0.3 s).

The graph takes the embeddings after their LayerNorm (token rows of the word table are still
looked up in numpy, from the memory-mapped file: the table is 384 MB and a question touches a
few dozen rows of it) and gives the last hidden states; pooling stays in numpy.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from index.embedding.query_encoder import EncoderWeights, Shape

log = logging.getLogger(__name__)

GRAPH_VERSION = 1
"""Part of the cache file's name: a change to the graph below makes new files."""


def graph_path(cache_dir: Path, folder: Path, shape: Shape) -> Path:
    """Where the graph of this folder's weights is kept: named by the weights file (path, size,
    modification time), the architecture and `GRAPH_VERSION`, so a changed model gets a new one."""
    weights = Path(folder) / "model.safetensors"
    info = weights.stat()
    key = f"{GRAPH_VERSION}|{weights.resolve()}|{info.st_size}|{info.st_mtime_ns}|{shape}"
    return Path(cache_dir) / f"query-encoder-{hashlib.sha256(key.encode()).hexdigest()[:16]}.onnx"


def open_session(cache_dir: Path, folder: Path, shape: Shape, weights: EncoderWeights,
                 agrees: Callable[[Any], bool]) -> Any | None:
    """An onnxruntime session over the cached graph, writing the graph first if need be. A
    cached graph that does not load, or whose output `agrees` rejects (one probe against the
    numpy layers), is written again. None (numpy then encodes, the same vectors more slowly)
    when either library is missing or the graph cannot be made to agree."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    try:
        path = graph_path(cache_dir, folder, shape)
        if path.is_file():
            try:
                session = _session(ort, path)
                if agrees(session):
                    return session
                log.warning("the question encoder's graph %s disagrees with its weights: writing it again", path)
            except Exception as exc:  # damaged on disk: written again below
                log.warning("the question encoder's graph %s is unreadable (%s): writing it again", path, exc)
        _write(path, build_graph(weights, shape))
        session = _session(ort, path)
        if agrees(session):
            return session
        log.warning("the question encoder's graph disagrees with numpy: questions are encoded by numpy")
    except Exception as exc:  # a full disk, a read-only cache, an unsupported op
        log.warning("questions are encoded by numpy (no onnxruntime session): %s", exc)
    return None


def _session(ort: Any, path: Path) -> Any:
    options = ort.SessionOptions()
    # One thread, never spinning: the page answers several questions at once, and a spinning
    # pool beside other busy processes was ~10× slower for numpy's BLAS.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _write(path: Path, data: bytes) -> None:
    """Whole or not at all: several processes may write the same file at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def build_graph(weights: EncoderWeights, shape: Shape) -> bytes:
    """The serialized ONNX model of the encoder layers: input `hidden` (tokens × hidden),
    output `out` of the same shape."""
    from onnx import TensorProto, helper, numpy_helper

    h, heads = shape.hidden, shape.heads
    d = h // heads
    nodes: list[Any] = []
    inits: list[Any] = []

    def const(name: str, value: Any, dtype: Any = np.float32) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [output], **attrs))
        return output

    def linear(x: str, pair: tuple[np.ndarray, np.ndarray], name: str) -> str:
        weight, bias = pair
        return node("Gemm", [x, const(f"{name}.w", weight), const(f"{name}.b", bias)], name, transB=1)

    def norm(x: str, pair: tuple[np.ndarray, np.ndarray], name: str) -> str:
        return node("LayerNormalization", [x, const(f"{name}.g", pair[0]), const(f"{name}.b", pair[1])], name,
                    axis=-1, epsilon=shape.eps)

    split_heads = const("split_heads", [0, heads, d], np.int64)
    join_heads = const("join_heads", [0, h], np.int64)
    scale = const("scale", 1.0 / math.sqrt(d))
    half, one = const("half", 0.5), const("one", 1.0)
    if shape.tanh_gelu:
        tanh_k, tanh_c = const("tanh_k", math.sqrt(2.0 / math.pi)), const("tanh_c", 0.044715)
    else:
        inv_sqrt2 = const("inv_sqrt2", math.sqrt(0.5))

    x = "hidden"
    for i, layer in enumerate(weights.layers):
        p = f"l{i}"
        q = node("Transpose", [node("Reshape", [linear(x, layer.q, f"{p}.q"), split_heads], f"{p}.qh")], f"{p}.qt",
                 perm=[1, 0, 2])
        k = node("Transpose", [node("Reshape", [linear(x, layer.k, f"{p}.k"), split_heads], f"{p}.kh")], f"{p}.kt",
                 perm=[1, 2, 0])
        v = node("Transpose", [node("Reshape", [linear(x, layer.v, f"{p}.v"), split_heads], f"{p}.vh")], f"{p}.vt",
                 perm=[1, 0, 2])
        scores = node("Softmax", [node("Mul", [node("MatMul", [q, k], f"{p}.qk"), scale], f"{p}.s")], f"{p}.p",
                      axis=-1)
        context = node("Reshape", [node("Transpose", [node("MatMul", [scores, v], f"{p}.c")], f"{p}.ct",
                                        perm=[1, 0, 2]), join_heads], f"{p}.cr")
        x = norm(node("Add", [linear(context, layer.out, f"{p}.o"), x], f"{p}.r1"), layer.norm1, f"{p}.n1")
        up = linear(x, layer.up, f"{p}.up")
        if shape.tanh_gelu:
            cube = node("Mul", [node("Mul", [up, up], f"{p}.u2"), up], f"{p}.u3")
            inner = node("Mul", [node("Add", [up, node("Mul", [cube, tanh_c], f"{p}.cu")], f"{p}.in0"), tanh_k],
                         f"{p}.in")
            gate = node("Add", [node("Tanh", [inner], f"{p}.t"), one], f"{p}.g1")
        else:
            gate = node("Add", [node("Erf", [node("Mul", [up, inv_sqrt2], f"{p}.us")], f"{p}.e"), one], f"{p}.g1")
        gelu = node("Mul", [node("Mul", [up, half], f"{p}.uh"), gate], f"{p}.gelu")
        x = norm(node("Add", [linear(gelu, layer.down, f"{p}.down"), x], f"{p}.r2"), layer.norm2, f"{p}.n2")
    nodes.append(helper.make_node("Identity", [x], ["out"]))
    graph = helper.make_graph(
        nodes, "replyqa-query-encoder",
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["tokens", h])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["tokens", h])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="replyqa")
    model.ir_version = 8
    return bytes(model.SerializeToString())
