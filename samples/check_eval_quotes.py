#!/usr/bin/env python3
"""Check eval/samples.jsonl against the sample letters in samples/letters/.

Independent of the project's own loader (so it can check it): reads each letter with the right
decoder (.txt: BOM-aware UTF-8, else GB18030; .html: tags, <script>/<style> and comments
stripped, entities unescaped; .docx: python-docx paragraphs; .pdf: pypdf text layer) and
verifies, for every question:
  - the fields and types of the design's evaluation format;
  - each gold quote is 10–60 characters, has no line break, and — after NFKC and removing all
    whitespace — is a substring of its letter's text;
  - the quote also sits inside one line of the letter (does not span a line break);
  - each fact is a substring of one of the question's gold quotes;
  - unanswerable questions have no gold and no facts.

Usage:  python samples/check_eval_quotes.py [eval/samples.jsonl] [--lengths]
Exit status 0 when everything checks out.
"""
from __future__ import annotations

import html
import json
import re
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
LETTERS = HERE / "letters"
DEFAULT_EVAL = HERE.parent / "eval" / "samples.jsonl"


def norm(s: str) -> str:
    return "".join(unicodedata.normalize("NFKC", s).split())


def html_to_text(src: str) -> str:
    src = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", src)
    src = re.sub(r"(?s)<!--.*?-->", "", src)
    src = re.sub(r"(?i)<br\s*/?>|</(p|div|tr|li|h\d|table)>", "\n", src)
    src = re.sub(r"(?s)<[^>]+>", "", src)
    return html.unescape(src)


def letter_text(path: Path) -> str:
    ext = path.suffix.lower()
    if ext == ".txt":
        data = path.read_bytes()
        if data.startswith(b"\xef\xbb\xbf"):
            return data[3:].decode("utf-8")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("gb18030")
    if ext in (".html", ".htm"):
        return html_to_text(path.read_text(encoding="utf-8"))
    if ext == ".docx":
        from docx import Document

        return "\n".join(p.text for p in Document(str(path)).paragraphs)
    if ext == ".pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
    raise ValueError(f"unsupported sample: {path}")


def load_letters() -> dict[str, str]:
    return {p.stem: letter_text(p) for p in sorted(LETTERS.iterdir()) if p.is_file()}


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    eval_path = Path(args[0]) if args else DEFAULT_EVAL
    letters = load_letters()
    if "--lengths" in argv:
        for stem, text in letters.items():
            print(f"{stem:24s} {len(norm(text)):5d} chars (NFKC, no whitespace)")

    normed = {k: norm(v) for k, v in letters.items()}
    # for the line check: PDF text layers wrap lines at the page width, so use source lines there
    line_sets = {}
    for k, v in letters.items():
        src = HERE / "src" / f"{k}.txt"
        lines = (src.read_text(encoding="utf-8") if src.exists() else v).split("\n")
        line_sets[k] = [norm(ln) for ln in lines]

    errors: list[str] = []
    ids: set[str] = set()
    n_q = n_quotes = n_facts = n_unans = 0
    for lineno, line in enumerate(eval_path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        q = json.loads(line)
        n_q += 1
        qid = q.get("id")
        where = f"line {lineno} ({qid})"
        if set(q) != {"id", "question", "history", "answerable", "gold", "facts"}:
            errors.append(f"{where}: keys {sorted(q)}")
        if qid in ids:
            errors.append(f"{where}: duplicate id")
        ids.add(qid)
        if not isinstance(q["history"], list) or not all(isinstance(h, str) for h in q["history"]):
            errors.append(f"{where}: history must be a list of strings")
        if not q["answerable"]:
            n_unans += 1
            if q["gold"] or q["facts"]:
                errors.append(f"{where}: unanswerable with gold/facts")
            continue
        if not q["gold"]:
            errors.append(f"{where}: answerable without gold")
        for g in q["gold"]:
            n_quotes += 1
            stem, quote = g["letter"], g["quote"]
            if stem not in normed:
                errors.append(f"{where}: unknown letter {stem}")
                continue
            if not 10 <= len(quote) <= 60:
                errors.append(f"{where}: quote length {len(quote)}: {quote}")
            if "\n" in quote:
                errors.append(f"{where}: quote has a line break")
            nq = norm(quote)
            if nq not in normed[stem]:
                errors.append(f"{where}: quote not in {stem}: {quote}")
            elif not any(nq in ln for ln in line_sets[stem]):
                errors.append(f"{where}: quote spans a line break in {stem}: {quote}")
        quotes = [norm(g["quote"]) for g in q["gold"]]
        for f in q["facts"]:
            n_facts += 1
            if not any(norm(f) in qq for qq in quotes):
                errors.append(f"{where}: fact {f!r} not in any gold quote")

    for e in errors:
        print("ERROR", e)
    print(
        f"{n_q} questions ({n_unans} unanswerable), {n_quotes} gold quotes, {n_facts} facts "
        f"checked against {len(letters)} letters: "
        + ("all found" if not errors else f"{len(errors)} problem(s)")
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
