"""The page's login: who may use it, and a check that does not leak which part was wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.web.auth import load_users, make_auth, parse_users


def test_auth_users_and_constant_time_check(tmp_path: Path) -> None:
    users_file = tmp_path / "users.txt"
    users_file.write_text("# 账号\nalice:a:b:c\n\nbob:秘密\n", encoding="utf-8")
    users = load_users("carol:pw, bob:old", users_file)
    assert users == {"carol": "pw", "bob": "秘密", "alice": "a:b:c"}
    check = make_auth(users)
    assert check is not None
    assert check("alice", "a:b:c") and check("bob", "秘密")
    assert not check("alice", "a:b") and not check("nobody", "pw") and not check("", "")
    assert make_auth({}) is None
    with pytest.raises(ValueError):
        parse_users("no-colon")
