"""Signing in and out, the login limit, the session cookie, the secret key, the headers, and
how passwords are hashed — as a browser (the test client) meets them."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlmodel import Session, select

from conftest import NOW, PASSWORD, SECRET_KEY, add_user, csrf_token, login, make_app, text_of
from models.user import LoginAttempt, LoginSession, User

ROOT = Path(__file__).resolve().parent.parent
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


@pytest.fixture
def user(app):
    return add_user(app, "tianbao", "admin", display_name="张填报")


def rows(app, model, *where):
    with Session(app.extensions["engine"]) as session:
        return list(session.exec(select(model).where(*where)))


def session_cookie(client):
    return client.get_cookie("__Host-session")


# --------------------------------------------------------------------------- signing in

def test_the_login_page_is_chinese_and_signing_in_leads_to_the_projects(app, anonymous, user):
    page = anonymous.get("/login")
    assert page.status_code == 200
    text = text_of(page.get_data(as_text=True))
    assert "登录 请使用管理员为您开设的账号登录。 用户名 密码 登录" in text
    assert 'autocomplete="current-password"' in page.get_data(as_text=True)
    response = login(anonymous, user)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    projects = anonymous.get("/projects").get_data(as_text=True)
    assert "张填报" in text_of(projects) and "退出" in text_of(projects)
    assert [a.success for a in rows(app, LoginAttempt)] == [True]


@pytest.mark.parametrize("username, password", [("tianbao", "错误的密码-wrong-password"), ("nobody", PASSWORD),
                                                ("tianbao", "")])
def test_a_wrong_password_or_an_unknown_name_gets_the_same_message(app, anonymous, user, username, password):
    response = anonymous.post("/login", data={"csrf_token": csrf_token(anonymous, "/login"), "username": username,
                                              "password": password})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<p id="login-error" class="field-error" role="alert">用户名或密码错误</p>' in html
    assert f'value="{username}"' in html                    # the name stays filled in; the password does not
    assert anonymous.get("/projects").status_code == 302   # not signed in
    assert [(a.username, a.success) for a in rows(app, LoginAttempt)] == [(username, False)]


def test_a_disabled_account_gets_the_same_answer_whatever_the_password(app, anonymous, user):
    """Telling "停用" only to the right password would confirm the password to whoever guessed
    it; the answer (and the hashing behind it) is the same as for any wrong password."""
    from models.db import get_session, transaction
    with app.app_context():
        session = get_session()
        with transaction(session):
            session.get(User, user.id).is_active = False
    wrong = login(app.test_client(), user, "错误的密码-wrong-password")
    right = login(app.test_client(), user)
    for answer in (wrong, right):
        assert answer.status_code == 422
        assert '<p id="login-error" class="field-error" role="alert">用户名或密码错误</p>' in answer.get_data(as_text=True)
    assert text_of(right.get_data(as_text=True)) == text_of(wrong.get_data(as_text=True))
    assert "该账号已停用" not in right.get_data(as_text=True)
    assert [a.success for a in rows(app, LoginAttempt)] == [False, False]


def test_a_stranger_is_sent_to_login_and_brought_back(anonymous, user):
    response = anonymous.get("/projects?year=2023&q=网络")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login" and parse_qs(location.query) == {"next": ["/projects?year=2023&q=网络"]}
    form = anonymous.get(response.headers["Location"]).get_data(as_text=True)
    assert '<input type="hidden" name="next" value="/projects?year=2023&amp;q=网络">' in form
    token = csrf_token(anonymous, "/login")
    back = anonymous.post("/login", data={"csrf_token": token, "username": user.username, "password": PASSWORD,
                                          "next": "/projects?year=2023&q=网络"})
    assert back.status_code == 303 and unquote(back.headers["Location"]) == "/projects?year=2023&q=网络"


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)",
                                    "/logout", "projects", "/\tevil"])
def test_next_leads_only_to_a_page_of_this_site(anonymous, user, target):
    token = csrf_token(anonymous, "/login")
    response = anonymous.post("/login", data={"csrf_token": token, "username": user.username, "password": PASSWORD,
                                              "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_a_signed_in_user_at_the_login_page_goes_on(client):
    response = client.get("/login?next=/account")
    assert response.status_code == 302 and response.headers["Location"] == "/account"


def test_an_htmx_request_without_a_session_sends_the_whole_page_to_login(anonymous):
    response = anonymous.get("/projects?q=网络", headers={"HX-Request": "true",
                                                         "HX-Current-URL": "http://localhost/projects?year=2023"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/projects?year%3D2023"
    assert "<html" not in response.get_data(as_text=True)      # nothing to swap into the table


# --------------------------------------------------------------------------- the session

def test_signing_in_renews_the_session_and_its_csrf_token(app, anonymous, user):
    before = csrf_token(anonymous, "/login")
    planted = session_cookie(anonymous).value      # what someone could have planted in the browser
    login(anonymous, user)
    after = csrf_token(anonymous, "/account")
    assert after != before
    assert session_cookie(anonymous).value != planted
    stranger = app.test_client()
    stranger.set_cookie("__Host-session", planted)
    assert stranger.get("/projects").status_code == 302   # the planted cookie did not get signed in


def test_signing_out_ends_the_session_even_for_a_copy_of_the_cookie(app, anonymous, user):
    login(anonymous, user)
    copy = app.test_client()
    copy.set_cookie("__Host-session", session_cookie(anonymous).value)
    assert copy.get("/projects").status_code == 200
    response = anonymous.post("/logout", data={"csrf_token": csrf_token(anonymous, "/account")})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert "您已退出登录。" in text_of(anonymous.get("/login").get_data(as_text=True))
    assert anonymous.get("/projects").status_code == 302
    assert copy.get("/projects").status_code == 302       # ended in the database, not only in the browser
    assert all(s.ended_at is not None for s in rows(app, LoginSession))


def test_signing_out_needs_the_csrf_token(anonymous, user):
    login(anonymous, user)
    response = anonymous.post("/logout")
    assert response.status_code == 400 and "安全校验未通过" in response.get_data(as_text=True)
    assert anonymous.get("/projects").status_code == 200   # still signed in: no one can sign you out


def test_the_top_bar_signs_out_with_a_form_that_carries_its_token(client):
    html = client.get("/projects").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/logout" class="logout">.*?</form>', html, flags=re.S).group(0)
    assert re.search(r'name="csrf_token" value="[^"]+"', form) and "退出" in form


def test_an_idle_session_runs_out(app, anonymous, user):
    login(anonymous, user)
    app.config["CLOCK"] = lambda: NOW.replace(year=2099)    # far past the 8 hours of idleness
    assert anonymous.get("/projects").status_code == 302


def test_activity_is_recorded_at_most_once_a_minute(app, anonymous, user):
    from datetime import datetime, timezone
    start = datetime.now(timezone.utc)
    app.config["CLOCK"] = lambda: start
    login(anonymous, user)
    app.config["CLOCK"] = lambda: start + timedelta(seconds=30)
    anonymous.get("/projects")
    assert rows(app, LoginSession)[0].last_seen_at == start
    app.config["CLOCK"] = lambda: start + timedelta(minutes=2)
    anonymous.get("/projects")
    assert rows(app, LoginSession)[0].last_seen_at == start + timedelta(minutes=2)


# --------------------------------------------------------------------------- the login limit

def _fail(client, username: str, address: str = "10.0.0.1"):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"csrf_token": token, "username": username, "password": "错误的密码-wrong"},
                       environ_base={"REMOTE_ADDR": address})


def _try(client, user, address: str = "10.0.0.1"):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"csrf_token": token, "username": user.username, "password": user.password},
                       environ_base={"REMOTE_ADDR": address})


def _at(app, moment):
    app.config["CLOCK"] = lambda: moment


def _waits(response, seconds: int) -> bool:
    """Refused for now, told in Chinese how long to wait, and by Retry-After."""
    return (response.status_code == 429 and response.headers["Retry-After"] == str(seconds)
            and f"登录失败次数过多，请等待 {seconds} 秒后再试。" in text_of(response.get_data(as_text=True)))


# seconds an account must wait before its next try, after each failure in a row: the first two
# cost nothing (typos), then 1, 2, 4 … seconds, never more than 30
WAITS = [0, 0, 1, 2, 4, 8, 16, 30, 30, 30, 30, 30]


def test_a_stranger_guessing_slows_the_account_down_but_cannot_lock_its_owner_out(app, anonymous, user):
    moment = NOW
    for n, wait in enumerate(WAITS):                                  # twelve guesses from twelve addresses
        _at(app, moment)
        assert _fail(anonymous, user.username, f"10.0.{n}.1").status_code == 422
        if wait:
            _at(app, moment + timedelta(seconds=wait - 1, milliseconds=500))
            assert _waits(_fail(anonymous, user.username, f"10.1.{n}.1"), 1)      # too soon: not a guess
        moment += timedelta(seconds=wait)
    last = moment - timedelta(seconds=30)                              # the 12th failure
    _at(app, last + timedelta(seconds=10))
    owner = app.test_client()
    assert _waits(_try(owner, user, "10.9.9.9"), 20)                   # even the right password waits
    assert owner.get("/projects").status_code == 302
    _at(app, last + timedelta(seconds=30))                             # the refusal did not extend the wait
    assert _try(owner, user, "10.9.9.9").status_code == 303
    assert owner.get("/projects").status_code == 200
    _at(app, last + timedelta(seconds=30))
    assert _fail(anonymous, user.username, "10.0.0.1").status_code == 422   # a success starts the count afresh
    assert _fail(anonymous, user.username, "10.0.0.1").status_code == 422


def test_guesses_sent_at_the_same_moment_wait_their_turn(app, user):
    """Each try is counted before its (slow) password check: a burst of guesses in parallel
    cannot all slip through before the first of them is recorded."""
    import threading
    _at(app, NOW)
    for n in range(2):
        _fail(app.test_client(), user.username, f"10.0.0.{n}")         # the two free failures
    clients = [app.test_client() for _ in range(5)]
    tokens = [csrf_token(c, "/login") for c in clients]
    answers, start = {}, threading.Barrier(len(clients))

    def guess(n):
        start.wait()
        answers[n] = clients[n].post("/login", data={"csrf_token": tokens[n], "username": user.username,
                                                     "password": "错误的密码-wrong"},
                                     environ_base={"REMOTE_ADDR": f"10.2.0.{n}"}).status_code

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers.values()) == [422, 429, 429, 429, 429]
    assert len(rows(app, LoginAttempt)) == 3


def test_ten_failures_from_one_address_lock_that_address_for_fifteen_minutes(app, anonymous, user):
    other = add_user(app, "shenhe", "supervisor")
    for n in range(10):
        _at(app, NOW + timedelta(seconds=n))
        assert _fail(anonymous, f"guess{n}", "10.0.0.66").status_code == 422     # ten names, one address
    _at(app, NOW + timedelta(minutes=5))
    refused = _try(anonymous, user, "10.0.0.66")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == str(10 * 60 + 9)
    # the 10th failure was at 09:00:09 (Asia/Shanghai): open again at 09:15:09
    assert "登录失败次数过多，已暂停登录。请于 09:15（北京时间）后再试。" in text_of(refused.get_data(as_text=True))
    assert _try(app.test_client(), other, "10.0.0.66").status_code == 429       # every account from there
    assert _try(app.test_client(), other, "10.0.0.67").status_code == 303       # elsewhere: fine
    _at(app, NOW + timedelta(minutes=15, seconds=8))                   # refused attempts did not extend the lock
    assert _try(anonymous, user, "10.0.0.66").status_code == 429
    _at(app, NOW + timedelta(minutes=15, seconds=10))
    assert _try(anonymous, user, "10.0.0.66").status_code == 303


def test_failures_spread_wider_than_the_window_do_not_lock_the_address(app, anonymous, user):
    for n in range(9):
        _at(app, NOW + timedelta(seconds=n))
        _fail(anonymous, f"guess{n}")
    _at(app, NOW + timedelta(minutes=16))
    _fail(anonymous, "guess9")                                        # the 10th, but the first nine are too old
    assert _try(anonymous, user).status_code == 303


def test_nine_failures_from_an_address_do_not_lock_it(app, anonymous, user):
    for n in range(9):
        _at(app, NOW + timedelta(seconds=n))
        _fail(anonymous, f"guess{n}")
    assert _try(anonymous, user).status_code == 303


def test_the_limits_as_the_model_computes_them():
    from sqlmodel import SQLModel, create_engine
    from models.user import LOGIN_WINDOW, account_opens_at, address_blocked_until, record_login
    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine, tables=[LoginAttempt.__table__])
    with Session(engine) as session:
        for n in range(10):
            record_login(session, "tianbao", "10.0.0.1", NOW + timedelta(minutes=n), success=False)
        session.commit()
        tenth = NOW + timedelta(minutes=9)
        assert address_blocked_until(session, "10.0.0.1", tenth) == tenth + LOGIN_WINDOW
        assert address_blocked_until(session, "10.9.9.9", tenth) is None
        assert address_blocked_until(session, "10.0.0.1", tenth + LOGIN_WINDOW) is None
        assert account_opens_at(session, "tianbao", tenth) == tenth + timedelta(seconds=30)
        assert account_opens_at(session, "tianbao", tenth + timedelta(seconds=30)) is None
        assert account_opens_at(session, "someone", tenth) is None
        record_login(session, "tianbao", "10.9.9.9", tenth + timedelta(minutes=1), success=True)
        record_login(session, "tianbao", "10.0.0.1", tenth + timedelta(minutes=2), success=False)
        session.commit()
        assert account_opens_at(session, "tianbao", tenth + timedelta(minutes=2)) is None   # one since the success


# --------------------------------------------------------------------------- the cookie and the key

def _cookie_header(response) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if "session=" in h)


def test_the_session_cookie_is_httponly_lax_and_secure_outside_development(anonymous, user):
    cookie = _cookie_header(login(anonymous, user))
    assert cookie.startswith("__Host-session=")
    assert "; HttpOnly" in cookie and "; SameSite=Lax" in cookie and "; Secure" in cookie and "; Path=/" in cookie
    assert "Domain=" not in cookie and "Expires=" not in cookie      # host-only, gone with the browser


def test_in_development_the_cookie_works_over_plain_http(tmp_path):
    app = make_app(tmp_path, ENV="development")
    client = app.test_client()
    cookie = _cookie_header(login(client, add_user(app, "admin", "admin")))
    assert cookie.startswith("session=") and "; HttpOnly" in cookie and "; SameSite=Lax" in cookie
    assert "Secure" not in cookie
    app.extensions["engine"].dispose()


@pytest.mark.parametrize("key", [None, "", "dev-only-not-secret", "short-key", "a" * 40, "ab" * 20])
def test_a_server_outside_development_refuses_to_start_without_a_strong_secret_key(tmp_path, key):
    from app import create_app
    config = {"DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}", "SECRET_KEY": key}
    with pytest.raises(RuntimeError) as refused:
        create_app(config)
    assert "SECRET_KEY 未设置或过弱" in str(refused.value) and "SECRET_KEY is missing or weak" in str(refused.value)


def test_a_strong_secret_key_starts(tmp_path):
    from app import create_app
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}", "SECRET_KEY": SECRET_KEY})
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["ENV"] == "production"


def test_in_development_a_key_is_generated_once_and_kept_private(tmp_path):
    from settings import _development_key
    path = tmp_path / "instance" / "dev-secret-key"
    key = _development_key(path)
    assert len(key) >= 60 and _development_key(path) == key
    assert path.stat().st_mode & 0o777 == 0o600


def _flask(*args, env: dict, timeout: int = 60):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "ENV")} | env
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_flask_run_without_a_key_stops_with_the_message_but_commands_work(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}"}
    served = _flask("run", "--port", "0", env=env)
    assert served.returncode != 0 and "SECRET_KEY 未设置或过弱" in served.stderr
    assert _flask("init-db", env=env).returncode == 0                    # commands sign no cookie
    created = _flask("users", "create", "admin", "--role", "admin", env=env)
    assert created.returncode == 0 and "密码：" in created.stdout


# --------------------------------------------------------------------------- headers

@pytest.mark.parametrize("url", ["/login", "/projects", "/projects/999", "/healthz", "/api/v1/projects",
                                 "/static/app.css"])
def test_every_answer_carries_the_security_headers(client, url):
    response = client.get(url)
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    if url != "/static/app.css":
        assert response.headers["Cache-Control"] == "no-store"   # Back after signing out shows nothing


def test_no_template_has_inline_script_style_or_event_handlers():
    for path in (ROOT / "templates").glob("*.html"):
        html = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path.name
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=", html), path.name


# --------------------------------------------------------------------------- passwords

def _hash_of(app, user) -> str:
    with Session(app.extensions["engine"]) as session:
        return session.get(User, user.id).password_hash


def test_passwords_are_hashed_with_argon2id_19_mib_and_2_passes(app):
    from argon2 import Type, extract_parameters
    from models.db import get_session, transaction
    from models.accounts import create_user
    with app.app_context():
        session = get_session()
        with transaction(session):
            user = create_user(session, username="zhang", role="admin", password=PASSWORD, now=NOW)
        stored = user.password_hash
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    parameters = extract_parameters(stored)
    assert parameters.type is Type.ID and parameters.memory_cost >= 19 * 1024 and parameters.time_cost >= 2
    assert PASSWORD not in stored


def test_a_hash_with_old_parameters_is_upgraded_at_the_next_login(app, anonymous):
    from argon2 import PasswordHasher
    from models.db import get_session, transaction
    user = add_user(app, "old", "admin")
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    with app.app_context():
        session = get_session()
        with transaction(session):
            session.get(User, user.id).password_hash = weak
    assert login(anonymous, user).status_code == 303
    upgraded = _hash_of(app, user)
    assert upgraded != weak and upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert login(app.test_client(), user).status_code == 303                 # the same password still works


def test_a_password_has_at_least_12_characters(app):
    from models.accounts import AccountError, create_user
    from models.db import get_session
    with app.app_context(), pytest.raises(AccountError, match="密码至少需要 12 个字符"):
        create_user(get_session(), username="zhang", role="admin", password="elevenchars", now=NOW)


def test_behind_a_trusted_proxy_the_limit_counts_the_forwarded_address(tmp_path):
    app = make_app(tmp_path, TRUSTED_PROXIES=1)
    user = add_user(app, "tianbao", "admin")
    client = app.test_client()
    for n in range(10):
        token = csrf_token(client, "/login")
        client.post("/login", data={"csrf_token": token, "username": f"guess{n}", "password": "错误的密码-wrong"},
                    headers={"X-Forwarded-For": "203.0.113.7"})
    token = csrf_token(client, "/login")
    blocked = client.post("/login", data={"csrf_token": token, "username": user.username, "password": PASSWORD},
                          headers={"X-Forwarded-For": "203.0.113.7"})
    assert blocked.status_code == 429
    token = csrf_token(client, "/login")
    other = client.post("/login", data={"csrf_token": token, "username": user.username, "password": PASSWORD},
                        headers={"X-Forwarded-For": "198.51.100.2"})
    assert other.status_code == 303          # the proxy's own address is not what is locked
    app.extensions["engine"].dispose()
