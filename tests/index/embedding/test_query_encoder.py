"""Questions embedded without torch must be the questions torch embeds: same tokens, vectors at
cosine ≥ 0.9999 to sentence-transformers' float32 `encode_query`, in a process that never
imports torch; and a folder of another architecture is refused, not embedded differently.

Real model (the session's export), real torch beside it for the comparison; no mocks.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.embedding.embedder import Embedder, load_embedder
from index.embedding.query_encoder import NotLight, QueryEncoder, _gelu, _gelu_tanh, check_folder
from index.settings import DEFAULT_EMBED_MODEL, Settings

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("torch", "transformers", "sentence_transformers", "sklearn", "scipy", "pandas")
LONG = "关于进一步加强农村公路建设养护管理、推动城乡交通运输一体化发展的建议" * 40
QUESTIONS = [
    "2019年山东全省建成多少5G基站？",
    "农村饮水安全工程投入了多少资金？",
    "那青岛呢？",
    "下一步怎么安排？",
    "关于修建村组连接道路的建议是怎么答复的",
    "哪个部门负责办理这件提案",
    "农村公路养护资金怎么安排的？",
    "学校周边交通安全",
    "停车难问题如何解决",
    "老旧小区加装电梯有补贴吗",
    "省卫健委对基层医疗卫生人才队伍建设有什么举措？",
    "粤卫案函〔2020〕208号答复了什么",
    "李剑波代表的建议办理结果",
    "2021年第3季度全市新增就业多少人？",
    "目前已累计完成1.9万站开通了吗",
    "投资近33亿元用于哪些项目",
    "5G、4G和NB-IoT网络覆盖情况",
    "What is the budget for rural roads in 2022?",
    "GDP增长6.5%的目标能完成吗",
    "ETC、APP和O2O是什么意思",
    "农村電商發展有哪些扶持政策？",  # mixed scripts
    "鼓山湖區域周邊公廁已選址于麗晶華庭小區嗎",  # traditional
    "關於加強科技創新推進山東省5G產業佈局的建議",
    "臺灣同胞投資保護條例",
    "第一百二十三号提案",
    "１２３４５６７８９０号建议",  # full-width digits
    "ＡＢＣ全角字母",
    "？？？",
    "？",
    "的",
    "  前后有空格  ",
    "换行\n和\t制表符",
    "表情😀和生僻字𠀀",
    "한국어와 日本語のテキスト",
    "a" * 30,
    "http://www.example.gov.cn/zwgk/2020/0828.html 这份答复说了什么",
    LONG,
    "",
]


def _settings(models_dir: Path, **changes: Any) -> Settings:
    values: dict[str, Any] = {"data_dir": models_dir.parent / "data", "models_dir": models_dir,
                              "embed_model": DEFAULT_EMBED_MODEL, "embed_precision": "float32",
                              "embed_simplified": False}
    return Settings(**{**values, **changes})


@pytest.fixture(scope="module")
def fp32(export_dir: Path, models_dir: Path) -> Embedder:
    return load_embedder(_settings(models_dir))


@pytest.fixture(scope="module")
def light(export_dir: Path) -> QueryEncoder:
    return QueryEncoder(export_dir)


def test_tokens_are_the_ones_sentence_transformers_feeds_the_model(fp32: Embedder, light: QueryEncoder) -> None:
    for question in QUESTIONS:
        theirs = fp32.model.tokenize([fp32.query_prompt + question])["input_ids"][0].tolist()
        assert light.token_ids(question) == theirs, question[:30]
    assert len(light.token_ids(LONG)) == 512, "truncated where torch truncates"


@pytest.fixture(scope="module")
def graph(export_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> QueryEncoder:
    encoder = QueryEncoder(export_dir, graph_cache=tmp_path_factory.mktemp("graphs"))
    assert encoder.engine == "onnxruntime"
    return encoder


def test_vectors_match_torch_float32(fp32: Embedder, light: QueryEncoder, graph: QueryEncoder,
                                     models_dir: Path) -> None:
    on_graph = np.stack([graph.encode(q) for q in QUESTIONS])
    ours = np.stack([light.encode(q) for q in QUESTIONS])
    assert np.sum(ours * on_graph, axis=1).min() >= 0.999999, "onnxruntime's layers are numpy's"
    torch32 = np.stack([fp32.embed_query(q) for q in QUESTIONS])
    cos = np.sum(ours * torch32, axis=1)
    worst = QUESTIONS[int(cos.argmin())][:30]
    assert cos.min() >= 0.9999, f"min cosine {cos.min():.7f} ({worst!r})"
    assert np.sum(on_graph * torch32, axis=1).min() >= 0.9999
    assert ours.dtype == np.float32 and np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    # Against the path questions took before (bf16 where the CPU has it): what differs is
    # bf16's rounding, not ours. Printed for the README.
    before = load_embedder(_settings(models_dir, embed_precision="auto"))
    to_before = np.sum(ours * np.stack([before.embed_query(q) for q in QUESTIONS]), axis=1)
    print(f"\nlight vs torch float32: min {cos.min():.7f} mean {cos.mean():.7f}; vs torch {before.precision}: "
          f"min {to_before.min():.5f} ({QUESTIONS[int(to_before.argmin())][:20]!r}) mean {to_before.mean():.5f}")
    assert to_before.min() >= 0.999


def test_xlm_roberta_positions_are_offset_like_torch(export_dir: Path, tmp_path: Path, light: QueryEncoder) -> None:
    """The same weights declared XLM-R: positions then start at pad_token_id + 1, in both."""
    folder = _variant(export_dir, tmp_path / "xlmr", {"model_type": "xlm-roberta",
                                                      "architectures": ["XLMRobertaModel"]})
    xlmr = QueryEncoder(folder)
    torch32 = load_embedder(_settings(tmp_path / "models", embed_model=str(folder)))
    for question in QUESTIONS[:8]:
        vector = xlmr.encode(question)
        assert float(vector @ torch32.embed_query(question)) >= 0.9999, question
        assert float(vector @ light.encode(question)) < 0.9999, "the offset is really used"


def test_both_gelus_match_their_definitions() -> None:
    """HF's "gelu" (erf) and "gelu_new" (tanh) against float64 references. On this model the two
    give vectors within 1e-6 of each other, so only here can a wrong branch show."""
    x = np.linspace(-12, 12, 48_001, dtype=np.float32)
    wide = x.astype(np.float64)
    erf = 0.5 * wide * (1 + np.array([math.erf(v / math.sqrt(2)) for v in wide]))
    tanh = 0.5 * wide * (1 + np.tanh(math.sqrt(2 / math.pi) * (wide + 0.044715 * wide**3)))
    assert np.abs(_gelu(x) - erf).max() < 2e-6
    assert np.abs(_gelu_tanh(x) - tanh).max() < 2e-6
    assert np.abs(erf - tanh).max() > 1e-4, "the references differ: the test can tell the two apart"


def test_questions_need_no_torch(export_dir: Path, tmp_path: Path) -> None:
    """Neither path (numpy; onnxruntime, writing its graph first) imports torch or its company."""
    probe = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from index.embedding.query_encoder import QueryEncoder\n"
        f"light = QueryEncoder(Path({str(export_dir)!r}), graph_cache=Path({str(tmp_path)!r}))\n"
        "vector = light.encode('2019年山东全省建成多少5G基站？')\n"
        "vector = light.encode('2019年山东全省建成多少5G基站？', engine='numpy')\n"
        f"print(json.dumps([len(vector), light.engine, [m for m in {HEAVY!r} if m in sys.modules]]))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [384, "onnxruntime", []]


def _variant(export_dir: Path, folder: Path, config: dict[str, Any] | None = None,
             pooling: dict[str, Any] | None = None, modules: list[dict[str, Any]] | None = None) -> Path:
    """The export with some configs changed; the big files linked, not copied."""
    folder.mkdir(parents=True)
    for item in export_dir.iterdir():
        if item.is_dir():
            shutil.copytree(item, folder / item.name)
        elif item.suffix in (".safetensors",) or item.name == "tokenizer.json":
            (folder / item.name).symlink_to(item)
        else:
            shutil.copy(item, folder / item.name)
    for path, change in (("config.json", config), ("1_Pooling/config.json", pooling)):
        if change:
            data = json.loads((folder / path).read_text("utf-8"))
            (folder / path).write_text(json.dumps({**data, **change}), "utf-8")
    if modules is not None:
        (folder / "modules.json").write_text(json.dumps(modules), "utf-8")
    return folder


@pytest.mark.parametrize(("config", "pooling", "drop_normalize", "why"), [
    ({"model_type": "roberta"}, None, False, "model_type"),
    ({"hidden_act": "relu"}, None, False, "hidden_act"),
    ({"position_embedding_type": "relative_key"}, None, False, "absolute"),
    ({"num_hidden_layers": 11}, None, False, "more encoder layers"),
    ({"hidden_size": 768}, None, False, "768"),
    (None, {"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}, False, "cls_token"),
    (None, {"include_prompt": False}, False, "include_prompt"),
    (None, None, True, "modules"),
])
def test_other_architectures_are_left_to_torch(export_dir: Path, tmp_path: Path, config: dict[str, Any] | None,
                                               pooling: dict[str, Any] | None, drop_normalize: bool,
                                               why: str) -> None:
    modules = json.loads((export_dir / "modules.json").read_text("utf-8"))
    folder = _variant(export_dir, tmp_path / "other", config, pooling, modules[:2] if drop_normalize else None)
    with pytest.raises(NotLight, match=why):
        check_folder(folder)
    assert check_folder(export_dir).hidden == 384
