"""People, their roles and scopes, API tokens, and the login limit.

Roles: `manager` (填报人) records actuals for the projects of one 实施单位; `supervisor`
(审核人) reads one 主管部门's projects, or all when it has none; `admin` does everything.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, update
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Field, Session, SQLModel, select

from models.db import prepared, rows

ROLES = {"admin": "管理员", "supervisor": "审核人", "manager": "填报人"}
MIN_PASSWORD_LENGTH = 12
LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_MAX_FAILURES = 10                  # from one address within the window: it waits LOGIN_WINDOW
ACCOUNT_FREE_FAILURES = 2                # an account's first failures in a row cost nothing (typos)
ACCOUNT_MAX_WAIT = timedelta(seconds=30)
ACCOUNT_COUNTED = 10                     # failures in a row beyond this wait the same (the cap)


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, unique=True, index=True)
    display_name: str | None = Field(default=None, max_length=80)
    email: str | None = Field(default=None, max_length=200)
    role: str = Field(max_length=20)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    password_hash: str = Field(max_length=300)
    is_active: bool = True
    created_at: datetime

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    @property
    def label(self) -> str:
        return self.display_name or self.username


class ApiToken(SQLModel, table=True):
    """Bearer tokens for the JSON API. Only a hash is stored; the token is shown once."""
    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    token_sha256: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=12)
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class LoginSession(SQLModel, table=True):
    """A signed-in browser. The cookie carries only the token; logout or disabling the
    user ends the session here, so a copied cookie stops working at once."""
    __tablename__ = "login_session"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    token_sha256: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None = None


class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempt"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, index=True)
    address: str = Field(max_length=64, index=True)
    at: datetime = Field(index=True)
    success: bool = False


# --------------------------------------------------------------------------- passwords

def _hasher():
    from argon2 import PasswordHasher
    # Argon2id, 19 MiB and 2 passes: the OWASP minimum; raise them here and old hashes are
    # upgraded at the next login (see `verify_password`).
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def password_problem(password: str) -> str | None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符"
    return None


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(user: User, password: str) -> bool:
    """True if the password is right; rehashes in place when the parameters changed."""
    from argon2.exceptions import InvalidHashError, VerificationError
    hasher = _hasher()
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return True


# --------------------------------------------------------------------------- the login limit

def address_blocked_until(session: Session, address: str, now: datetime) -> datetime | None:
    """When signing in from this address opens again, or None when it is open.

    The 10th failure within 15 minutes from one address locks it, for every account, for 15
    minutes from that failure, even with the right password. Attempts refused while locked
    are not failures: they neither extend the lock nor were they guesses."""
    # a lock still running began with a failure at most two windows ago
    times = list(session.exec(
        select(LoginAttempt.at)
        .where(LoginAttempt.address == address, LoginAttempt.success.is_(False),
               LoginAttempt.at > now - 2 * LOGIN_WINDOW)
        .order_by(LoginAttempt.at)))
    until = None
    for last in range(LOGIN_MAX_FAILURES - 1, len(times)):
        if times[last] - times[last - LOGIN_MAX_FAILURES + 1] <= LOGIN_WINDOW:
            opens = times[last] + LOGIN_WINDOW
            if opens > now and (until is None or opens > until):
                until = opens
    return until


def account_wait(failures_in_a_row: int) -> timedelta:
    """After the free failures, 1 s, then 2, 4 … up to ACCOUNT_MAX_WAIT."""
    if failures_in_a_row <= ACCOUNT_FREE_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** (failures_in_a_row - ACCOUNT_FREE_FAILURES - 1)), ACCOUNT_MAX_WAIT)


def account_opens_at(session: Session, username: str, now: datetime) -> datetime | None:
    """When this account may be tried again, or None when now.

    An account is slowed down, never locked: a lock would let any stranger who knows a name
    (the admin's) keep its owner out from anywhere. Each failure in a row (within the window,
    since the last success) makes the next try wait longer, up to 30 s — guessing a 12-character
    password at two tries a minute is hopeless, and the owner waits half a minute at most."""
    recent = session.exec(
        select(LoginAttempt.at, LoginAttempt.success)
        .where(LoginAttempt.username == username, LoginAttempt.at > now - LOGIN_WINDOW)
        .order_by(LoginAttempt.at.desc(), LoginAttempt.id.desc()).limit(ACCOUNT_COUNTED)).all()
    failures = next((n for n, (_at, success) in enumerate(recent) if success), len(recent))
    if not failures:
        return None
    opens = recent[0][0] + account_wait(failures)
    return opens if opens > now else None


def record_login(session: Session, username: str, address: str, now: datetime, success: bool) -> LoginAttempt:
    attempt = LoginAttempt(username=username[:80], address=address[:64], at=now, success=success)
    session.add(attempt)
    return attempt


# --------------------------------------------------------------------------- sessions

SESSION_IDLE = timedelta(hours=8)


def start_session(session: Session, user: User, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(user_id=user.id, token_sha256=_digest(token), created_at=now, last_seen_at=now))
    return token


def user_for_session(session: Session, token: str | None, now: datetime) -> User | None:
    """The signed-in user, or None when the session ended, idled out or the user is disabled."""
    if not token:
        return None
    row = session.exec(select(LoginSession).where(LoginSession.token_sha256 == _digest(token),
                                                  LoginSession.ended_at.is_(None))).first()
    if row is None or row.last_seen_at < now - SESSION_IDLE:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return user


def touch_session(session: Session, token: str, now: datetime) -> None:
    """Record activity at most once a minute: a write per page view would serialise readers."""
    row = session.exec(select(LoginSession).where(LoginSession.token_sha256 == _digest(token))).first()
    if row is not None and row.last_seen_at < now - timedelta(minutes=1):
        row.last_seen_at = now
        session.add(row)


def end_session(session: Session, token: str | None, now: datetime) -> None:
    if not token:
        return
    row = session.exec(select(LoginSession).where(LoginSession.token_sha256 == _digest(token))).first()
    if row is not None and row.ended_at is None:
        row.ended_at = now
        session.add(row)


def end_all_sessions(session: Session, user_id: int, now: datetime) -> None:
    for row in session.exec(select(LoginSession).where(LoginSession.user_id == user_id,
                                                       LoginSession.ended_at.is_(None))):
        row.ended_at = now
        session.add(row)


def end_other_sessions(session: Session, user_id: int, keep_token: str | None, now: datetime) -> None:
    """After a password change: every other browser signs in again, this one stays."""
    keep = _digest(keep_token) if keep_token else None
    for row in session.exec(select(LoginSession).where(LoginSession.user_id == user_id,
                                                       LoginSession.ended_at.is_(None))):
        if row.token_sha256 != keep:
            row.ended_at = now
            session.add(row)


# --------------------------------------------------------------------------- tokens

def new_token(session: Session, user: User, now: datetime) -> str:
    token = "jx_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_sha256=_digest(token), prefix=token[:10], created_at=now))
    return token


@prepared     # read on every API call, with the digest bound
def _token_user():
    return (select(ApiToken.id, ApiToken.last_used_at, *User.__table__.columns)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_sha256 == bindparam("digest"), ApiToken.revoked_at.is_(None)))


@dataclass(frozen=True)
class TokenUser:
    """Who an API token is, and whether its last use is to be noted (at most once a minute)."""
    user: User
    token_id: int
    note_use: bool


def user_for_token(session: Session, token: str, now: datetime) -> TokenUser | None:
    """The token's user, as a detached User: read as a plain row (every API call reads it, and
    loading it as ORM objects cost as much as many a whole answer), never written through."""
    found = rows(session, _token_user(), {"digest": _digest(token)})
    if not found:
        return None
    token_id, last_used_at, *columns = found[0]
    user = User.model_validate(dict(zip(User.__table__.columns.keys(), columns)))
    if not user.is_active:
        return None
    make_transient_to_detached(user)     # a stored row's object, in no session
    return TokenUser(user, token_id, last_used_at is None or last_used_at < now - timedelta(minutes=1))


def note_token_use(session: Session, token_id: int, now: datetime) -> None:
    """The token's last use (in the caller's transaction)."""
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
