"""Optional login for the page: who may use it, and a password check that leaks nothing.

Users come from `REPLYQA_AUTH_USERS` (`user:pass,user2:pass`, read into `Settings.auth_users`)
and/or a users file of `user:password` lines (`Settings.auth_file`). When neither is set the
page has no login, which is only safe because it listens on 127.0.0.1 by default.

The check compares fixed-length digests with `hmac.compare_digest` and does the same work for
an unknown user as for a known one, so response times say nothing about which names exist or
how much of a password was right.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from pathlib import Path

from index.settings import Settings

AuthCheck = Callable[[str, str], bool]


class AuthConfigError(ValueError):
    """The users list or users file cannot be read; the message is for the person starting the server."""


def parse_users(text: str, *, separator: str = ",", origin: str = "REPLYQA_AUTH_USERS") -> dict[str, str]:
    """`user:pass` entries; the password is everything after the first colon (it may hold colons).

    Blank entries and `#` comment lines are skipped, so a users file can be annotated.
    """
    users: dict[str, str] = {}
    for n, raw in enumerate(text.split(separator), start=1):
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        user, colon, password = entry.partition(":")
        user = user.strip()
        if not colon or not user or not password:
            where = f"第 {n} 行" if separator == "\n" else f"第 {n} 项"
            raise AuthConfigError(f"{origin} {where}格式不对，应为“用户名:密码”")
        users[user] = password
    return users


def load_users(auth_users: str | None = None, auth_file: Path | None = None) -> dict[str, str]:
    """Users from both sources; the file wins when a name is in both."""
    users: dict[str, str] = {}
    if auth_users:
        users.update(parse_users(auth_users))
    if auth_file:
        path = Path(auth_file).expanduser()
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise AuthConfigError(f"无法读取用户文件 {path}：{exc.strerror or exc}") from None
        users.update(parse_users(text, separator="\n", origin=str(path)))
    return users


def users_from_settings(settings: Settings) -> dict[str, str]:
    return load_users(settings.auth_users, settings.auth_file)


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


def make_auth(users: Mapping[str, str]) -> AuthCheck | None:
    """The callable `Blocks.launch(auth=...)` wants, or None when login is off."""
    if not users:
        return None
    stored = {_digest(user): _digest(password) for user, password in users.items()}
    decoy = _digest("\x00replyqa-no-such-user\x00")

    def check(username: str, password: str) -> bool:
        user_key = _digest(username or "")
        given = _digest(password or "")
        # Walk every entry, so the time taken does not depend on where (or whether) the name is.
        user_ok = False
        expected = decoy
        for key, value in stored.items():
            if hmac.compare_digest(key, user_key):
                user_ok = True
                expected = value
        return hmac.compare_digest(expected, given) and user_ok

    return check
