"""Each user's own page: role and scope, their password, their API tokens."""
from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from conftest import PASSWORD, csrf_token, login, signed_in, text_of
from models.user import ApiToken

NEW = "新的密码-a-new-password"


@pytest.fixture
def manager(seeded, personas):
    return signed_in(seeded, personas.manager_a)


def post(client, url: str, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, "/account"), **data})


def test_the_page_shows_role_and_scope(manager):
    text = text_of(manager.get("/account").get_data(as_text=True))
    assert "我的账号 tianbao（填报人甲） · 填报人 · 实施单位：山西省投资促进局" in text
    assert "可以 查看本单位的项目，填报其实际完成情况，导入本单位的申报表" in text
    assert "没有有效的令牌" in text


@pytest.mark.parametrize("data, field, message", [
    ({"current": "错误的密码-wrong", "new": NEW, "repeat": NEW}, "current", "当前密码不正确"),
    ({"current": PASSWORD, "new": NEW, "repeat": NEW + "x"}, "repeat", "两次输入的新密码不一致"),
    ({"current": PASSWORD, "new": "short", "repeat": "short"}, "new", "密码至少需要 12 个字符"),
    ({"current": PASSWORD, "new": PASSWORD, "repeat": PASSWORD}, "new", "新密码不能与当前密码相同"),
])
def test_a_refused_password_change_says_why_at_the_field(seeded, personas, manager, data, field, message):
    response = post(manager, "/account/password", **data)
    assert response.status_code == 422
    assert f'<p id="error-{field}" class="field-error" role="alert">{message}</p>' in response.get_data(as_text=True)
    assert login(seeded.test_client(), personas.manager_a).status_code == 303        # unchanged


def test_changing_the_password_signs_out_other_browsers_but_not_this_one(seeded, personas, manager):
    elsewhere = signed_in(seeded, personas.manager_a)
    response = post(manager, "/account/password", current=PASSWORD, new=NEW, repeat=NEW)
    assert response.status_code == 303
    assert "密码已修改。其他设备上的登录已退出，本浏览器保持登录。" in text_of(
        manager.get("/account").get_data(as_text=True))
    assert elsewhere.get("/projects").status_code == 302
    assert login(seeded.test_client(), personas.manager_a).status_code == 422
    assert login(seeded.test_client(), personas.manager_a, NEW).status_code == 303


def test_a_new_token_is_shown_once_then_listed_by_its_prefix(seeded, personas, manager):
    response = post(manager, "/account/tokens")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    token = re.search(r'<code class="secret">(jx_[^<]+)</code>', response.get_data(as_text=True)).group(1)
    page = manager.get("/account").get_data(as_text=True)
    assert token not in page
    assert f"<code>{token[:10]}…</code>" in page and "从未使用" in text_of(page)
    api = seeded.test_client(use_cookies=False).get("/api/v1/projects", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200
    assert re.search(r"<code>jx_[^<]+…</code></td>\s*<td class=\"nowrap\">[\d: -]+</td>\s*<td class=\"nowrap\">[\d: -]+</td>",
                     manager.get("/account").get_data(as_text=True))       # last used: now


def test_revoking_a_token_removes_it(seeded, personas, manager):
    post(manager, "/account/tokens")
    with Session(seeded.extensions["engine"]) as session:
        token_id = session.exec(select(ApiToken.id)).one()
    response = post(manager, f"/account/tokens/{token_id}/revoke")
    assert response.status_code == 303
    text = text_of(manager.get("/account").get_data(as_text=True))
    assert "令牌已撤销，使用它的程序将无法再访问。" in text and "没有有效的令牌" in text
    assert post(manager, f"/account/tokens/{token_id}/revoke").status_code == 303       # twice: no harm


def test_someone_elses_token_cannot_be_revoked(seeded, personas, manager):
    other = signed_in(seeded, personas.manager_b)
    post(other, "/account/tokens")
    with Session(seeded.extensions["engine"]) as session:
        token = session.exec(select(ApiToken)).one()
    assert post(manager, f"/account/tokens/{token.id}/revoke").status_code == 404
    with Session(seeded.extensions["engine"]) as session:
        assert session.get(ApiToken, token.id).revoked_at is None
