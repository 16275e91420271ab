"""Who may change the index from the page, and the changes themselves (delete a letter, read it
again from its file, correct its title, issuer or date) as plain calls on `ReplyQA` that return
what to tell the user — no Gradio here.

With login on, the users named in `REPLYQA_ADMIN_USERS` may manage and everybody else only
reads; nobody, when no admin is named. Without login, a page served on 127.0.0.1 (only someone
at this machine reaches it, who could run `replyqa remove` anyway) may manage, and a page
opened to other machines without login may not. The page hides the controls from whoever may
not use them, and every handler asks again: hiding is not the check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from assistant.service import ReplyQA
from index.corrections import FIELD_ZH
from index.pipeline import STATUS_ZH, FileResult
from index.reading.letter import ReplyLetter
from index.storage.corrections import CORRECTABLE, Correction
from index.storage.records import StoreError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
REFUSED = "当前账号没有管理索引的权限（请联系管理员，或见 REPLYQA_ADMIN_USERS 设置）。"


@dataclass(frozen=True)
class ManagePolicy:
    login: bool
    admins: frozenset[str] = frozenset()
    local: bool = True

    @classmethod
    def of(cls, *, login: bool, admin_users: str | None, host: str) -> ManagePolicy:
        admins = frozenset(u.strip() for u in (admin_users or "").split(",") if u.strip())
        return cls(login=login, admins=admins, local=host in LOCAL_HOSTS)

    def allows(self, username: str | None) -> bool:
        if self.login:
            return bool(username) and username in self.admins
        return self.local


@dataclass(frozen=True)
class Outcome:
    """What a management action did: whether the index changed, and what to say."""

    changed: bool
    message: str
    ok: bool = True


def _said(result: FileResult, done: str) -> Outcome:
    if result.status == "failed":
        return Outcome(False, f"未能{done}：{result.reason}", ok=False)
    if result.status == "unchanged":
        return Outcome(False, f"{done}完成：源文件和解析方式都没有变化，索引中的内容已是最新。")
    return Outcome(True, f"{done}完成（{STATUS_ZH[result.status]}，{result.chunks} 个段落块）。")


def form_values(letter: ReplyLetter | None) -> tuple[str, str, str]:
    """The correction form's fields for a letter as it is shown (title, issuer, date)."""
    if letter is None:
        return "", "", ""
    return letter.display_title, letter.issuer or "", letter.date or ""


def wanted_correction(
    letter: ReplyLetter, correction: Correction | None, form: Mapping[str, str]
) -> dict[str, str | None]:
    """The fields the form changes from what the parser found (a field given back its parsed
    value, or emptied, is no correction)."""
    parsed: dict[str, str | None] = {
        "title": letter.display_title, "issuer": letter.issuer, "date": letter.date,
    }
    if correction is not None:
        parsed.update({k: correction.original.get(k) for k in correction.values})
    out: dict[str, str | None] = {}
    for key in CORRECTABLE:
        value = " ".join((form.get(key) or "").split())
        if value and value != (parsed.get(key) or ""):
            out[key] = value
    return out


def correct(app: ReplyQA, letter_id: str, form: Mapping[str, str]) -> Outcome:
    letter = app.letter(letter_id)
    if letter is None:
        return Outcome(False, "找不到这封答复，它可能已被移除。", ok=False)
    values = wanted_correction(letter, app.catalog.correction(letter_id), form)
    try:
        result = app.correct(letter_id, values) if values else app.withdraw_correction(letter_id)
    except StoreError as exc:
        return Outcome(False, f"未能保存更正：{exc}", ok=False)
    if result.status == "failed":
        return Outcome(False, f"未能保存更正：{result.reason}", ok=False)
    if not values:
        return Outcome(result.status != "unchanged", "没有与解析结果不同的字段，已按解析结果显示。")
    fields = "、".join(FIELD_ZH[k] for k in values)
    return Outcome(True, f"已更正{fields}；重新导入这封答复时仍会保留。")


def withdraw(app: ReplyQA, letter_id: str) -> Outcome:
    try:
        result = app.withdraw_correction(letter_id)
    except StoreError as exc:
        return Outcome(False, f"未能撤销更正：{exc}", ok=False)
    if result.status == "failed":
        return Outcome(False, f"未能撤销更正：{result.reason}", ok=False)
    return Outcome(result.status != "unchanged", "已撤销更正，恢复为解析结果。")


def reparse(app: ReplyQA, letter_id: str) -> Outcome:
    try:
        return _said(app.reparse(letter_id), "重新解析")
    except StoreError as exc:
        return Outcome(False, f"未能重新解析：{exc}", ok=False)


def delete(app: ReplyQA, letter_id: str) -> Outcome:
    letter = app.letter(letter_id)
    name = f"《{letter.display_title}》" if letter else letter_id
    try:
        results = app.remove([letter_id])
    except StoreError as exc:
        return Outcome(False, f"未能删除：{exc}", ok=False)
    if not results or results[0].status != "removed":
        reason = results[0].reason if results else "索引中没有这封答复"
        return Outcome(False, f"未能删除：{reason}", ok=False)
    return Outcome(True, f"已从索引中删除{name}。源文件没有删除，重新导入即可恢复。")
