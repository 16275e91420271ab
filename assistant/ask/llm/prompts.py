"""The prompts the LLM sees, read from `prompts/` at every use (an edited prompt takes effect
without a restart), and the numbered sources and conversation they are filled with."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.llms.openai_like import OpenAILike

from assistant.ask.answer import NOT_FOUND
from assistant.ask.citation import chinese_date, section_at, section_words
from assistant.ask.conversation import Turn
from assistant.ask.llm.client import describe_failure, strip_think

if TYPE_CHECKING:
    from assistant.ask.llm.sources import Source
    from assistant.library import Snapshot

log = logging.getLogger(__name__)

_CONDENSE_PREFIX = re.compile(r"^(?:改写后的问题|独立问题|完整问题|问题)[:：]\s*")


def prompt_dir() -> Path:
    """The installed `prompts` folder. `importlib.resources.files("prompts")` fails on Python
    3.11 for this data-only (namespace) package in an editable install, so take the first real
    directory on the package path, or the folder next to `assistant/`."""
    try:
        import prompts

        for entry in prompts.__path__:
            if Path(entry).is_dir():
                return Path(entry)
    except ImportError:
        pass
    return Path(__file__).resolve().parents[3] / "prompts"


def load_prompt(name: str) -> str:
    """Read at every use, so an edited prompt takes effect without a restart."""
    return (prompt_dir() / f"{name}.txt").read_text(encoding="utf-8")


def fill(template: str, **values: str) -> str:
    """Replace `{name}` placeholders literally (other braces in a prompt stay as written)."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def format_history(turns: Sequence[Turn], snapshot: Snapshot | None = None, limit: int = 4) -> str:
    """Earlier turns for the condense prompt: the question, and which letters its answer cited
    (the conversation's letter in focus)."""
    blocks = []
    for turn in list(turns)[-limit:]:
        lines = [f"用户问：{turn.question}"]
        if snapshot is not None:
            cited = [snapshot.letters[i] for i in turn.letters if i in snapshot.letters]
            for letter in cited:
                who = f"（{letter.issuer}）" if letter.issuer else ""
                lines.append(f"回答依据的答复：《{letter.display_title}》{who}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def condense(
    llm: OpenAILike,
    question: str,
    turns: Sequence[Turn],
    *,
    fallback: str | None = None,
    snapshot: Snapshot | None = None,
) -> tuple[str, Exception | None]:
    fallback = fallback or question
    if not turns:
        return question, None
    prompt = fill(load_prompt("condense"), history=format_history(turns, snapshot), question=question)
    try:
        response = llm.chat([ChatMessage(role=MessageRole.USER, content=prompt)])
    except Exception as exc:
        log.warning("condensing the follow-up with the LLM failed, using the rules rewrite: %s",
                    describe_failure(exc, llm))
        return fallback, exc
    text = strip_think(response.message.content or "")
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = _CONDENSE_PREFIX.sub("", line).strip().strip("“”\"'「」")
    if not line or len(line) > 200:
        return fallback, None
    return line, None


def _escape(text: str) -> str:
    """A letter must not be able to close its own <资料> block."""
    return text.replace("<", "＜").replace(">", "＞")


def format_sources(sources: Sequence[Source]) -> str:
    blocks = []
    for s in sources:
        letter, passage = s.letter, s.passage
        section = section_at(letter, passage.start, passage.end)
        where = section_words(section.key) if section else "正文"
        if section is not None and section.heading:
            where += f" {section.heading}"
        lines = [f'<资料 编号="{s.n}">', f"标题：《{_escape(letter.display_title)}》"]
        if letter.issuer:
            lines.append(f"答复单位：{_escape(letter.issuer)}")
        if letter.date:
            lines.append(f"答复日期：{chinese_date(letter.date)}")
        lines += [f"所在部分：{_escape(where)}", "内容：", _escape(passage.text.strip()), "</资料>"]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def answer_messages(question: str, sources: Sequence[Source]) -> list[ChatMessage]:
    system = fill(load_prompt("answer_system"), not_found=NOT_FOUND)
    user = fill(load_prompt("answer_user"), sources=format_sources(sources), question=question)
    return [ChatMessage(role=MessageRole.SYSTEM, content=system), ChatMessage(role=MessageRole.USER, content=user)]
