"""`flask demo seed` makes the demo users once; `flask users password` resets a password."""
from __future__ import annotations

import re

from sqlmodel import Session, select

from conftest import login
from models.user import User


def test_demo_seed_creates_the_demo_users_once_and_prints_their_passwords(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    passwords = dict(re.findall(r"^  (\w+)\s+密码：(\S+)", first.output, flags=re.M))
    assert sorted(passwords) == ["admin", "shenhe", "tianbao"]
    assert "tianbao  密码：" in first.output and "（填报人，范围：山西省投资促进局）" in first.output
    assert "（审核人，范围：山西省商务厅）" in first.output
    with Session(app.extensions["engine"]) as session:
        users = {u.username: u for u in session.exec(select(User))}
    assert {name: users[name].role for name in passwords} == {"admin": "admin", "tianbao": "manager",
                                                              "shenhe": "supervisor"}
    assert all(p not in u.password_hash for p, u in zip(passwords.values(), users.values()))
    for name, password in passwords.items():
        person = type("P", (), {"username": name, "password": password})
        assert login(app.test_client(), person).status_code == 303, name

    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0
    assert "演示用户 tianbao（填报人）已存在，密码未改变。" in again.output
    assert "密码：" not in again.output.replace("忘记密码：", "")
    assert "flask --app app users password 用户名" in again.output


def test_users_password_resets_and_prints_a_new_one(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["users", "create", "admin", "--role", "admin", "--password", "原来的密码-old-password"])
    result = runner.invoke(args=["users", "password", "admin"])
    assert result.exit_code == 0 and "已重置 admin 的密码，其登录已全部退出。" in result.output
    new = re.search(r"密码：(\S+)", result.output).group(1)
    assert login(app.test_client(), type("P", (), {"username": "admin", "password": new})).status_code == 303
    missing = runner.invoke(args=["users", "password", "nobody"])
    assert missing.exit_code == 1 and "用户“nobody”不存在" in missing.output
    short = runner.invoke(args=["users", "password", "admin", "--password", "short"])
    assert short.exit_code == 1 and "密码至少需要 12 个字符" in short.output
