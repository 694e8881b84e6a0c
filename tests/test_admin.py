"""User management as an admin does it: add, change role and scope, disable, reset."""
from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from conftest import PASSWORD, add_user, csrf_token, login, signed_in, text_of
from models.user import LoginSession, User


@pytest.fixture
def admin(seeded, personas):
    return signed_in(seeded, personas.admin)


def user_named(app, username: str) -> User | None:
    with Session(app.extensions["engine"]) as session:
        return session.exec(select(User).where(User.username == username)).first()


def post(client, url: str, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, "/account"), **data})


def test_the_list_shows_role_scope_state_and_last_login(seeded, personas, admin):
    text = text_of(admin.get("/admin/users").get_data(as_text=True))
    assert "用户名 姓名 角色 范围 状态 最后登录" in text
    assert "tianbao 填报人甲 填报人 实施单位：山西省投资促进局 启用 从未登录" in text
    assert "shenhe — 审核人 主管部门：山西省商务厅 启用 从未登录" in text
    assert "shenhe_all — 审核人 全部主管部门 启用" in text
    assert re.search(r"admin — 管理员 全部 启用 \d{4}-\d\d-\d\d \d\d:\d\d", text)     # signed in just now


def test_adding_a_manager_with_a_generated_password_shows_it_once(seeded, admin):
    form = admin.get("/admin/users/new").get_data(as_text=True)
    assert '<optgroup label="山西省商务厅">' in form and '<option value="山西省投资促进局">' in form
    response = post(admin, "/admin/users", username="wangwu", display_name="王五", role="manager",
                    unit="山西省投资促进局", department="山西省商务厅")      # the department select is ignored
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password = re.search(r'<code class="secret">([^<]+)</code>', response.get_data(as_text=True)).group(1)
    assert len(password) >= 16
    user = user_named(seeded, "wangwu")
    assert (user.role, user.display_name, user.department_id) == ("manager", "王五", None)
    assert password not in user.password_hash
    assert password not in admin.get(f"/admin/users/{user.id}").get_data(as_text=True)    # only once
    assert login(seeded.test_client(), type("P", (), {"username": "wangwu", "password": password})).status_code == 303


def test_adding_a_user_with_a_given_password(seeded, admin):
    response = post(admin, "/admin/users", username="zhaoliu", role="supervisor", department="山西省商务厅",
                    password=PASSWORD)
    assert response.status_code == 303
    page = text_of(admin.get(response.headers["Location"]).get_data(as_text=True))
    assert "已创建用户 zhaoliu。" in page and "审核人 · 主管部门：山西省商务厅" in page


@pytest.mark.parametrize("data, field, message", [
    ({"username": "", "role": "admin"}, "username", "用户名不能为空，且不超过 80 个字符"),
    ({"username": "tianbao", "role": "admin"}, "username", "用户名“tianbao”已存在"),
    ({"username": "with space", "role": "admin"}, "username", "用户名只能包含字母、汉字、数字和 . _ - @"),
    ({"username": "li", "role": "manager"}, "unit", "填报人必须指定实施单位"),
    ({"username": "li", "role": "manager", "unit": "不存在的单位"}, "unit", "实施单位“不存在的单位”不存在，请先导入该单位的申报表"),
    ({"username": "li", "role": "boss"}, "role", "未知角色“boss”，应为 admin、supervisor 或 manager"),
    ({"username": "li", "role": "admin", "password": "short"}, "password", "密码至少需要 12 个字符"),
    ({"username": "li", "role": "admin", "email": "not-an-address"}, "email", "邮箱地址格式不正确"),
])
def test_a_refused_new_user_gets_422_and_the_reason_at_its_field(seeded, admin, data, field, message):
    response = post(admin, "/admin/users", **data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'<p id="error-{field}" class="field-error" role="alert">{message}</p>' in html
    assert 'aria-invalid="true" aria-describedby="error-' + field + '"' in html
    assert user_named(seeded, "li") is None


def test_changing_role_and_scope_applies_at_the_next_request(seeded, personas, admin):
    manager = signed_in(seeded, personas.manager_a)
    assert manager.get("/imports/new").status_code == 200
    response = post(admin, f"/admin/users/{personas.manager_a.id}/scope", role="supervisor",
                    department="山西省发展和改革委员会", unit="山西省投资促进局")
    assert response.status_code == 303
    assert "已修改 tianbao 的角色和范围：审核人，主管部门：山西省发展和改革委员会。" in text_of(
        admin.get(response.headers["Location"]).get_data(as_text=True))
    assert manager.get("/imports/new").status_code == 403                       # no longer imports
    assert manager.get(f"/projects/{personas.project_b}").status_code == 200    # now reads unit B's 主管部门
    assert manager.get(f"/projects/{personas.project_a}").status_code == 404


def test_the_last_admin_cannot_be_demoted_or_disabled(seeded, personas, admin):
    response = post(admin, f"/admin/users/{personas.admin.id}/scope", role="supervisor")
    assert response.status_code == 422
    assert "这是唯一启用的管理员账号，不能停用或改为其他角色" in response.get_data(as_text=True)
    assert user_named(seeded, "admin").role == "admin"
    other = add_user(seeded, "admin2", "admin")
    assert post(admin, f"/admin/users/{other.id}/scope", role="supervisor").status_code == 303


def test_an_admin_cannot_disable_themselves(seeded, personas, admin):
    response = post(admin, f"/admin/users/{personas.admin.id}/active", active="0")
    assert response.status_code == 422 and "不能停用自己的账号" in response.get_data(as_text=True)


def test_disabling_ends_the_users_sessions_and_enabling_lets_them_back(seeded, personas, admin):
    victim = signed_in(seeded, personas.manager_b)
    assert victim.get("/projects").status_code == 200
    response = post(admin, f"/admin/users/{personas.manager_b.id}/active", active="0")
    assert response.status_code == 303
    assert "已停用 tianbao_b：其登录已全部退出，API 令牌已全部作废。" in text_of(
        admin.get(response.headers["Location"]).get_data(as_text=True))
    assert victim.get("/projects").status_code == 302
    with Session(seeded.extensions["engine"]) as session:
        assert all(s.ended_at for s in session.exec(select(LoginSession).where(
            LoginSession.user_id == personas.manager_b.id)))
    assert login(seeded.test_client(), personas.manager_b).status_code == 422
    assert "已停用" in text_of(admin.get("/admin/users").get_data(as_text=True))
    post(admin, f"/admin/users/{personas.manager_b.id}/active", active="1")
    assert login(seeded.test_client(), personas.manager_b).status_code == 303


def test_disabling_revokes_the_users_api_tokens_for_good(seeded, personas, admin):
    """Re-enabling an account does not bring back the tokens it had: whoever copied one while
    the account was in use (the reason it was disabled, perhaps) stays out."""
    from test_api import call, token_for
    token = token_for(seeded, personas.manager_b)
    assert call(seeded, token).status_code == 200
    assert post(admin, f"/admin/users/{personas.manager_b.id}/active", active="0").status_code == 303
    assert post(admin, f"/admin/users/{personas.manager_b.id}/active", active="1").status_code == 303
    refused = call(seeded, token)
    assert refused.status_code == 401 and refused.get_json() == {"error": "缺少或无效的访问令牌"}
    page = text_of(admin.get(f"/admin/users/{personas.manager_b.id}").get_data(as_text=True))
    assert token[:10] not in page                       # no longer listed among the user's tokens
    fresh = token_for(seeded, personas.manager_b)      # a new token works as usual
    assert call(seeded, fresh).status_code == 200


def test_resetting_a_password_generates_one_shown_once_and_signs_the_user_out(seeded, personas, admin):
    victim = signed_in(seeded, personas.supervisor_a)
    response = post(admin, f"/admin/users/{personas.supervisor_a.id}/password")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    password = re.search(r'<code class="secret">([^<]+)</code>', html).group(1)
    assert "新密码 （只显示这一次" in text_of(html)
    assert victim.get("/projects").status_code == 302
    assert login(seeded.test_client(), personas.supervisor_a).status_code == 422             # the old one
    fresh = type("P", (), {"username": personas.supervisor_a.username, "password": password})
    assert login(seeded.test_client(), fresh).status_code == 303


def test_resetting_to_a_given_password_checks_its_length(seeded, personas, admin):
    short = post(admin, f"/admin/users/{personas.supervisor_a.id}/password", password="short")
    assert short.status_code == 422 and "密码至少需要 12 个字符" in short.get_data(as_text=True)
    given = post(admin, f"/admin/users/{personas.supervisor_a.id}/password", password="一个新的密码-new-password")
    assert given.status_code == 303
    fresh = type("P", (), {"username": personas.supervisor_a.username, "password": "一个新的密码-new-password"})
    assert login(seeded.test_client(), fresh).status_code == 303


def test_resetting_ones_own_password_keeps_this_browser_signed_in(seeded, personas, admin):
    assert post(admin, f"/admin/users/{personas.admin.id}/password", password="一个新的密码-new-password").status_code == 303
    assert admin.get("/admin/users").status_code == 200


def test_an_unknown_user_is_a_404(admin):
    assert admin.get("/admin/users/99999").status_code == 404
    assert post(admin, "/admin/users/99999/active", active="0").status_code == 404


def test_user_management_is_for_admins_only(seeded, personas):
    for person in (personas.manager_a, personas.supervisor_all):
        client = signed_in(seeded, person)
        response = client.get("/admin/users")
        assert response.status_code == 403 and "您没有权限执行此操作" in response.get_data(as_text=True)
        assert "用户管理" not in text_of(client.get("/projects").get_data(as_text=True))
    assert "用户管理" in text_of(signed_in(seeded, personas.admin).get("/projects").get_data(as_text=True))
