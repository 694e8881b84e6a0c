"""Sending one email over SMTP with the standard library — no Flask, no database.

The outbox (built elsewhere) claims an item, builds it with `build_message`, hands it to `send`
and records the `SendResult`:

- "sent"   — the server accepted the message (250 after DATA).
- "retry"  — a temporary failure: 4xx replies, a dropped or refused connection, a timeout, a TLS
             handshake cut short. Try again after `next_attempt_delay(attempts)`; once an item has
             had `MAX_ATTEMPTS` attempts, `apply_attempt_limit` turns the retry into "failed".
- "failed" — a permanent failure: 5xx replies (unknown recipient, sender refused, 535 bad
             credentials, 530 STARTTLS required …), a certificate that does not verify, a server
             lacking what the settings demand (STARTTLS, AUTH). Retrying cannot help.

Decisions worth knowing:

- A new connection per `send` call: nothing is pooled, so a half-dead connection from an earlier
  attempt can never swallow a message.
- `timeout_seconds` bounds each network wait (connect, TLS handshake, every reply), not the
  whole conversation; a server that stalls anywhere is given up on after about that long.
- TLS always verifies the certificate and the host name against the system's trust store, or
  against `ca_file` alone when it is set.
- A timeout after the message body was sent is ambiguous (the server may have queued it), and it
  is retried. The Message-ID is derived from the outbox key, so the re-sent copy carries the same
  Message-ID and receivers can recognise the duplicate.
- No header value may contain CR, LF or another control character: `build_message` raises
  ValueError rather than stripping them, so header injection is a bug that surfaces, not a
  silently altered message.
"""
from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Literal, Mapping

Security = Literal["starttls", "ssl", "none"]
Status = Literal["sent", "retry", "failed"]

SECURITIES: tuple[str, ...] = ("starttls", "ssl", "none")
STANDARD_PORTS = {"ssl": 465, "starttls": 587, "none": 25}
DEFAULT_MAIL_FROM = "绩效目标跟踪 <noreply@localhost>"
DEFAULT_TIMEOUT_SECONDS = 10.0

# Backoff: 1, 2, 4 … minutes, never more than 6 hours between attempts. Twelve attempts span
# about 20 hours (1+2+…+256 minutes, then 6 h, 6 h), which outlasts an overnight outage of the
# mail server while a reminder is still worth reading.
MAX_ATTEMPTS = 12
FIRST_RETRY_DELAY = timedelta(minutes=1)
MAX_RETRY_DELAY = timedelta(hours=6)

# The email package's default policy, but bodies must be 7-bit clean: Chinese text goes out as
# base64 or quoted-printable, so no server needs 8BITMIME. Headers are RFC 2047 encoded.
MESSAGE_POLICY = policy.default.clone(cte_type="7bit")

_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_DETAIL_LIMIT = 200


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to hand mail over. Built from the app config by `from_mapping`."""

    host: str
    port: int = 25
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    security: Security = "starttls"
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    mail_from: str = DEFAULT_MAIL_FROM
    ca_file: str | None = None

    def __post_init__(self):
        if not self.host:
            raise ValueError("SMTP host is empty")
        if self.security not in SECURITIES:
            raise ValueError(f"SMTP_SECURITY must be one of {', '.join(SECURITIES)}, "
                             f"not {self.security!r}")
        if not 0 < self.port < 65536:
            raise ValueError(f"SMTP port out of range: {self.port}")
        if not self.timeout_seconds > 0:
            raise ValueError(f"SMTP timeout must be positive: {self.timeout_seconds}")
        if self.user and self.security == "none":
            raise ValueError("SMTP_USER is set but SMTP_SECURITY is 'none': "
                             "the password would cross the network in clear text")

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> SmtpSettings | None:
        """Settings from SMTP_* keys, or None without SMTP_HOST (mail then stays in the outbox).

        Empty values count as unset. Port and security fill each other in:

        - no SMTP_PORT: the standard port of SMTP_SECURITY (ssl 465, starttls 587), else 25;
        - no SMTP_SECURITY: "ssl" on port 465; "starttls" on port 587 or when SMTP_USER is set
          (credentials are only ever sent encrypted); otherwise "none" (a relay on port 25).
        """
        host = _setting(config, "SMTP_HOST")
        if host is None:
            return None
        user = _setting(config, "SMTP_USER")
        security = _setting(config, "SMTP_SECURITY")
        security = security.lower() if security else None
        port_text = _setting(config, "SMTP_PORT")
        port = int(port_text) if port_text else STANDARD_PORTS.get(security or "none", 25)
        timeout_text = _setting(config, "SMTP_TIMEOUT")
        return cls(
            host=host,
            port=port,
            user=user,
            password=config.get("SMTP_PASSWORD") or None,   # spaces may belong to a password
            security=security or default_security(port, user),
            timeout_seconds=float(timeout_text) if timeout_text else DEFAULT_TIMEOUT_SECONDS,
            mail_from=_setting(config, "MAIL_FROM") or DEFAULT_MAIL_FROM,
            ca_file=_setting(config, "SMTP_CA_FILE"),
        )


def default_security(port: int, user: str | None) -> Security:
    """The security to use when SMTP_SECURITY is not given (see `SmtpSettings.from_mapping`)."""
    if port == 465:
        return "ssl"
    if user or port == 587:
        return "starttls"
    return "none"


def _setting(config: Mapping[str, Any], name: str) -> str | None:
    value = config.get(name)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class SendResult:
    status: Status
    detail: str


def message_id_for(key: str, domain: str) -> str:
    """The Message-ID of the outbox item `key`: the same on every attempt."""
    return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@{domain}>"


def build_message(*, to: str, subject: str, text: str, html: str, key: str, mail_from: str,
                  domain: str, now: datetime | None = None) -> EmailMessage:
    """A multipart/alternative (plain text + HTML) UTF-8 message for one recipient.

    `key` is the outbox key the Message-ID is derived from; `domain` is the right-hand side of
    the Message-ID (the site's host name); `now` (timezone-aware) becomes the Date header.
    Raises ValueError for a control character in any header value, for anything but exactly
    one ASCII mailbox in `to` and `mail_from` (display names may be Chinese), and for a bad
    domain or an empty key.
    """
    for header, value in (("To", to), ("From", mail_from), ("Subject", subject),
                          ("Message-ID domain", domain)):
        _refuse_control_characters(header, value)
    if not _DOMAIN.fullmatch(domain):
        raise ValueError(f"Message-ID domain must be an ASCII host name: {domain!r}")
    if not key:
        raise ValueError("outbox key is empty")
    moment = now or datetime.now(timezone.utc)
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")

    message = EmailMessage(policy=MESSAGE_POLICY)
    message["From"] = mail_from
    message["To"] = to
    for header in ("From", "To"):
        _require_one_mailbox(message, header)
    message["Subject"] = subject
    message["Date"] = format_datetime(moment)
    message["Message-ID"] = message_id_for(key, domain)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def _refuse_control_characters(header: str, value: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{header} must be a str, not {type(value).__name__}")
    for char in value:
        if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            raise ValueError(f"{header} contains the control character {char!r}: {value!r}")


def _require_one_mailbox(message: EmailMessage, header: str) -> None:
    parsed = message[header]
    addresses = parsed.addresses
    if len(addresses) != 1 or parsed.defects:
        raise ValueError(f"{header} must be exactly one well-formed address: {str(parsed)!r}")
    address = addresses[0]
    if not (address.username and address.domain and address.addr_spec.isascii()):
        raise ValueError(f"{header} must be an ASCII mailbox user@domain: {address.addr_spec!r}")


def send(message: EmailMessage, settings: SmtpSettings) -> SendResult:
    """Hand `message` to the server over a new connection; never raises for SMTP problems."""
    try:
        smtp = _open(settings)
    except (smtplib.SMTPException, OSError, UnicodeError) as problem:
        return _classify(problem, settings)
    try:
        refused = smtp.send_message(message)
    except (smtplib.SMTPException, OSError, UnicodeError) as problem:
        smtp.close()
        return _classify(problem, settings)
    except BaseException:
        smtp.close()
        raise
    _quit_quietly(smtp)
    detail = f"已发送：{_reply(*smtp.data_reply)}"
    if refused:
        detail += "；部分收件人被拒绝：" + "，".join(
            f"{address} {_reply(code, text)}" for address, (code, text) in refused.items())
    return SendResult("sent", detail)


class _RemembersDataReply:
    """Keeps the server's answer to the message body ("250 2.0.0 Ok: queued as …") for the
    detail line, which lets an operator find the message in the server's log."""

    data_reply: tuple[int, bytes] = (250, b"")

    def data(self, msg):
        self.data_reply = super().data(msg)
        return self.data_reply


class _SMTP(_RemembersDataReply, smtplib.SMTP):
    pass


class _SMTP_SSL(_RemembersDataReply, smtplib.SMTP_SSL):
    pass


def _open(settings: SmtpSettings) -> smtplib.SMTP:
    """Connected, encrypted as the settings demand, and logged in."""
    timeout = settings.timeout_seconds
    if settings.security == "ssl":
        smtp = _SMTP_SSL(settings.host, settings.port, timeout=timeout,
                         context=_tls_context(settings))
    else:
        smtp = _SMTP(settings.host, settings.port, timeout=timeout)
    try:
        if settings.security == "starttls":
            smtp.starttls(context=_tls_context(settings))
            smtp.ehlo()
        if settings.user:
            smtp.login(settings.user, settings.password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    # create_default_context verifies the certificate chain and the host name.
    return ssl.create_default_context(cafile=settings.ca_file)


def _quit_quietly(smtp: smtplib.SMTP) -> None:
    """Say goodbye; the message is already accepted, so a failing QUIT changes nothing."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _classify(problem: BaseException, settings: SmtpSettings) -> SendResult:
    where = f"{settings.host}:{settings.port}"
    if isinstance(problem, smtplib.SMTPRecipientsRefused):
        replies = list(problem.recipients.items())
        permanent = all(_is_permanent(code) for _, (code, _) in replies)
        detail = "收件人被拒绝：" + "，".join(
            f"{address} {_reply(code, text)}" for address, (code, text) in replies)
        return SendResult("failed" if permanent else "retry", _shorten(detail))
    if isinstance(problem, smtplib.SMTPResponseException):
        status = "failed" if _is_permanent(problem.smtp_code) else "retry"
        return SendResult(status, f"服务器拒绝：{_reply(problem.smtp_code, problem.smtp_error)}")
    if isinstance(problem, smtplib.SMTPServerDisconnected):
        if isinstance(problem.__context__, TimeoutError):
            return _timed_out(settings)
        return SendResult("retry", _shorten(f"连接被服务器断开（{where}）：{problem}"))
    if isinstance(problem, smtplib.SMTPNotSupportedError):
        return SendResult("failed", _shorten(f"服务器不支持所需功能（{where}）：{problem}"))
    if isinstance(problem, smtplib.SMTPException):
        return SendResult("failed", _shorten(f"SMTP 错误（{where}）：{problem}"))
    if isinstance(problem, ssl.SSLCertVerificationError):
        reason = problem.verify_message or problem.reason or str(problem)
        return SendResult("failed", _shorten(f"服务器证书校验失败（{where}）：{reason}"))
    if isinstance(problem, (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)):
        return SendResult("retry", _shorten(f"TLS 握手时连接中断（{where}）：{problem}"))
    if isinstance(problem, ssl.SSLError):
        return SendResult("failed", _shorten(f"TLS 握手失败（{where}）：{problem.reason or problem}"))
    if isinstance(problem, TimeoutError):
        return _timed_out(settings)
    if isinstance(problem, OSError):
        return SendResult("retry", _shorten(f"无法连接 {where}：{problem.strerror or problem}"))
    return SendResult("failed", _shorten(f"邮件无法按 SMTP 要求编码：{problem}"))


def _timed_out(settings: SmtpSettings) -> SendResult:
    return SendResult("retry", f"服务器 {settings.host}:{settings.port} "
                               f"{settings.timeout_seconds:g} 秒内没有响应")


def _is_permanent(code: int) -> bool:
    return 500 <= code <= 599


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return _shorten(f"{code} {' '.join(text.split())}")


def _shorten(line: str) -> str:
    line = " ".join(line.split())
    return line if len(line) <= _DETAIL_LIMIT else line[:_DETAIL_LIMIT - 1] + "…"


def next_attempt_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: 1, 2, 4 … minutes, at most 6 h."""
    if attempts < 1:
        raise ValueError(f"attempts counts attempts made, at least 1: {attempts}")
    doublings = min(attempts - 1, 20)   # 2**20 minutes is far past the cap already
    return min(FIRST_RETRY_DELAY * 2 ** doublings, MAX_RETRY_DELAY)


def apply_attempt_limit(result: SendResult, attempts: int) -> SendResult:
    """`result` of the `attempts`-th attempt, with a retry turned into failed at MAX_ATTEMPTS."""
    if result.status == "retry" and attempts >= MAX_ATTEMPTS:
        return SendResult("failed", f"{result.detail}（已尝试 {attempts} 次，不再重试）")
    return result
