"""reminders/mailer.py against real SMTP servers on loopback (aiosmtpd), with real TLS
certificates made for the test: what arrives, and how each kind of failure is classified."""
from __future__ import annotations

import asyncio
import email
import hashlib
import ipaddress
import socket
import ssl
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from email import policy
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from reminders.mailer import (
    DEFAULT_MAIL_FROM, MAX_ATTEMPTS, SendResult, SmtpSettings, apply_attempt_limit,
    build_message, message_id_for, next_attempt_delay, send,
)

LOOPBACK = "127.0.0.1"
DOMAIN = "jixiao.test"
MAIL_FROM = "绩效目标跟踪 <noreply@jixiao.test>"
RECIPIENT = "张三（填报人） <zhangsan@unit-a.example>"
SUBJECT = "【绩效目标跟踪】请于 8 月 10 日前填报“招商引资专项经费” 2023 年 7 月实际值"
LINK = "https://jixiao.test/projects/17"
TEXT = f"张三您好：\n\n“招商引资专项经费”7 月实际值尚未填报，请于 8 月 10 日前填报。\n{LINK}\n"
HTML = (f"<p>张三您好：</p><p>“招商引资专项经费”7 月实际值尚未填报，请于 8 月 10 日前填报。</p>"
        f'<p><a href="{LINK}">打开项目页面</a></p>\n')
KEY = "reminder:project-17:2023-07:user-3"
NOW = datetime(2023, 8, 6, 9, 0, tzinfo=timezone(timedelta(hours=8)))
FAST = 1.0       # seconds: the timeout of a test that waits for the timeout
PATIENT = 10.0   # seconds: of every other test connection, which must succeed or fail on its own
                 # terms — on a loaded machine a 1 s wait for the loopback server turned a refused
                 # certificate into a timeout (a retry)


def reminder(**overrides):
    fields = dict(to=RECIPIENT, subject=SUBJECT, text=TEXT, html=HTML, key=KEY,
                  mail_from=MAIL_FROM, domain=DOMAIN, now=NOW)
    fields.update(overrides)
    return build_message(**fields)


def settings_for(port: int, **overrides) -> SmtpSettings:
    fields = dict(host=LOOPBACK, port=port, security="none", timeout_seconds=PATIENT,
                  mail_from=MAIL_FROM)
    fields.update(overrides)
    return SmtpSettings(**fields)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server(handler, **smtp_parameters):
    """A real aiosmtpd server on a free loopback port, stopped afterwards."""
    controller = Controller(handler, hostname=LOOPBACK, port=free_port(),
                            server_hostname="mail.jixiao.test", **smtp_parameters)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


class Mailbox:
    """Accepts everything and keeps what arrived."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 2.0.0 Ok: queued as 4F2A17"

    def messages(self):
        return [email.message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


class BusyOnce(Mailbox):
    """Answers the first message body with 451, then accepts."""

    def __init__(self):
        super().__init__()
        self.data_commands = 0

    async def handle_DATA(self, server, session, envelope):
        self.data_commands += 1
        if self.data_commands == 1:
            return "451 4.3.0 try later"
        return await super().handle_DATA(server, session, envelope)


class NoSuchUser(Mailbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 5.1.1 no such user"


class StallsAfterBody(Mailbox):
    """Receives the body and then keeps the client waiting far past its timeout."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(30)
        return await super().handle_DATA(server, session, envelope)


# --- certificates made at test time ---------------------------------------------------------

def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_pem(path: Path, cert: x509.Certificate, key=None) -> Path:
    pem = cert.public_bytes(serialization.Encoding.PEM)
    if key is not None:
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()) + pem
    path.write_bytes(pem)
    return path


def _issue_server_cert(directory, ca_cert, ca_key, names, filename):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(timezone.utc)
    alt_names = [x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() else x509.DNSName(n)
                 for n in names]
    cert = (x509.CertificateBuilder()
            .subject_name(_name(names[0])).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(_write_pem(directory / filename, cert, key))
    return server_context


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """A test CA; a server certificate for 127.0.0.1 and one for another host name."""
    directory = tmp_path_factory.mktemp("tls")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(timezone.utc)
    ca_name = _name("绩效目标跟踪 测试 CA")
    ca_cert = (x509.CertificateBuilder()
               .subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(minutes=5))
               .not_valid_after(now + timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                            crl_sign=True, content_commitment=False,
                                            key_encipherment=False, data_encipherment=False,
                                            key_agreement=False, encipher_only=False,
                                            decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                              critical=False)
               .sign(ca_key, hashes.SHA256()))
    return SimpleNamespace(
        ca_file=str(_write_pem(directory / "ca.pem", ca_cert)),
        server_context=_issue_server_cert(directory, ca_cert, ca_key,
                                          [LOOPBACK, "localhost"], "loopback.pem"),
        other_host_context=_issue_server_cert(directory, ca_cert, ca_key,
                                              ["mail.elsewhere.example"], "elsewhere.pem"),
    )


# --- what arrives ---------------------------------------------------------------------------

def test_reminder_arrives_with_chinese_subject_both_bodies_and_the_keyed_message_id():
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        result = send(reminder(), settings_for(server.port))

    assert result == SendResult("sent", "已发送：250 2.0.0 Ok: queued as 4F2A17")
    [envelope] = mailbox.envelopes
    assert envelope.mail_from == "noreply@jixiao.test"
    assert envelope.rcpt_tos == ["zhangsan@unit-a.example"]
    envelope.content.decode("ascii")   # 7-bit clean: no server needs 8BITMIME

    [received] = mailbox.messages()
    assert received["From"].addresses[0].display_name == "绩效目标跟踪"
    assert received["From"].addresses[0].addr_spec == "noreply@jixiao.test"
    assert received["To"].addresses[0].display_name == "张三（填报人）"
    assert received["To"].addresses[0].addr_spec == "zhangsan@unit-a.example"
    assert received["Subject"] == SUBJECT
    assert b"Subject: =?utf-8?" in envelope.content   # RFC 2047 on the wire
    assert received.get_content_type() == "multipart/alternative"
    plain = received.get_body(("plain",))
    html = received.get_body(("html",))
    assert plain.get_content_charset() == html.get_content_charset() == "utf-8"
    assert plain.get_content() == TEXT
    assert html.get_content() == HTML
    assert LINK in plain.get_content() and f'href="{LINK}"' in html.get_content()
    expected_id = f"<{hashlib.sha256(KEY.encode()).hexdigest()[:32]}@{DOMAIN}>"
    assert received["Message-ID"] == expected_id
    assert received["Date"].datetime == NOW


def test_the_same_outbox_key_always_gives_the_same_message_id():
    first = reminder(now=NOW)
    rebuilt_after_a_crash = reminder(now=NOW + timedelta(hours=1))
    other_item = reminder(key="reminder:project-17:2023-07:user-4")

    assert first["Message-ID"] == rebuilt_after_a_crash["Message-ID"]
    assert first["Message-ID"] == message_id_for(KEY, DOMAIN)
    assert other_item["Message-ID"] != first["Message-ID"]


# --- temporary and permanent failures -------------------------------------------------------

def test_a_451_is_retried_and_the_next_attempt_is_sent():
    mailbox = BusyOnce()
    with smtp_server(mailbox) as server:
        settings = settings_for(server.port)
        first = send(reminder(), settings)
        second = send(reminder(), settings)

    assert first == SendResult("retry", "服务器拒绝：451 4.3.0 try later")
    assert second.status == "sent"
    assert mailbox.data_commands == 2
    assert len(mailbox.envelopes) == 1


def test_an_unknown_recipient_fails_for_good():
    mailbox = NoSuchUser()
    with smtp_server(mailbox) as server:
        result = send(reminder(), settings_for(server.port))

    assert result.status == "failed"
    assert "550 5.1.1 no such user" in result.detail
    assert "zhangsan@unit-a.example" in result.detail
    assert mailbox.envelopes == []


def test_a_server_that_never_greets_is_retried_within_the_timeout():
    with socket.socket() as silent:   # listens, so connects succeed, but never says a word
        silent.bind((LOOPBACK, 0))
        silent.listen()
        started = time.monotonic()
        result = send(reminder(), settings_for(silent.getsockname()[1], timeout_seconds=FAST))
        elapsed = time.monotonic() - started

    assert result.status == "retry"
    assert "1 秒内没有响应" in result.detail
    assert elapsed < 5


def test_a_tls_handshake_that_never_completes_is_retried_within_the_timeout(tls):
    with socket.socket() as silent:
        silent.bind((LOOPBACK, 0))
        silent.listen()
        started = time.monotonic()
        result = send(reminder(), settings_for(silent.getsockname()[1], security="ssl",
                                               ca_file=tls.ca_file, timeout_seconds=FAST))
        elapsed = time.monotonic() - started

    assert result.status == "retry"
    assert "没有响应" in result.detail
    assert elapsed < 5


def test_a_server_that_stalls_after_the_body_is_retried_within_the_timeout():
    mailbox = StallsAfterBody()
    with smtp_server(mailbox) as server:
        started = time.monotonic()
        result = send(reminder(), settings_for(server.port, timeout_seconds=FAST))
        elapsed = time.monotonic() - started

    assert result.status == "retry"
    assert elapsed < 5


def test_nobody_listening_is_retried():
    result = send(reminder(), settings_for(free_port()))

    assert result.status == "retry"
    assert "无法连接 127.0.0.1:" in result.detail


# --- TLS and AUTH ---------------------------------------------------------------------------

def test_starttls_with_the_servers_ca_is_sent(tls):
    mailbox = Mailbox()
    with smtp_server(mailbox, tls_context=tls.server_context, require_starttls=True) as server:
        result = send(reminder(), settings_for(server.port, security="starttls",
                                               ca_file=tls.ca_file))

    assert result.status == "sent"
    [received] = mailbox.messages()
    assert received["Subject"] == SUBJECT


def test_starttls_with_an_untrusted_certificate_fails_and_sends_nothing(tls):
    mailbox = Mailbox()
    with smtp_server(mailbox, tls_context=tls.server_context, require_starttls=True) as server:
        result = send(reminder(), settings_for(server.port, security="starttls"))

    assert result.status == "failed"
    assert "证书校验失败" in result.detail
    assert mailbox.envelopes == []


def test_a_certificate_for_another_host_fails(tls):
    mailbox = Mailbox()
    with smtp_server(mailbox, tls_context=tls.other_host_context, require_starttls=True) as server:
        result = send(reminder(), settings_for(server.port, security="starttls",
                                               ca_file=tls.ca_file))

    assert result.status == "failed"
    assert "证书校验失败" in result.detail and "127.0.0.1" in result.detail
    assert mailbox.envelopes == []


def test_starttls_demanded_but_not_offered_fails():
    with smtp_server(Mailbox()) as server:
        result = send(reminder(), settings_for(server.port, security="starttls"))

    assert result.status == "failed"
    assert "STARTTLS" in result.detail


def test_implicit_tls_with_the_servers_ca_is_sent(tls):
    mailbox = Mailbox()
    with smtp_server(mailbox, ssl_context=tls.server_context) as server:
        result = send(reminder(), settings_for(server.port, security="ssl", ca_file=tls.ca_file))

    assert result.status == "sent"
    assert len(mailbox.envelopes) == 1


def accept_only(login: bytes, password: bytes):
    def authenticator(server, session, envelope, mechanism, auth_data):
        right = (isinstance(auth_data, LoginPassword)
                 and (auth_data.login, auth_data.password) == (login, password))
        # handled=False: aiosmtpd itself answers "535 5.7.8 Authentication credentials invalid"
        return AuthResult(success=right, handled=False)
    return authenticator


@pytest.mark.parametrize("password, status", [("s3cret-pass", "sent"), ("wrong", "failed")])
def test_auth_over_starttls(tls, password, status):
    mailbox = Mailbox()
    with smtp_server(mailbox, tls_context=tls.server_context, require_starttls=True,
                     auth_required=True,
                     authenticator=accept_only(b"zhangsan", b"s3cret-pass")) as server:
        result = send(reminder(), settings_for(server.port, security="starttls",
                                               ca_file=tls.ca_file, user="zhangsan",
                                               password=password))

    assert result.status == status, result.detail
    if status == "failed":
        assert "535" in result.detail
        assert mailbox.envelopes == []
    else:
        assert len(mailbox.envelopes) == 1


# --- header injection -----------------------------------------------------------------------

@pytest.mark.parametrize("field, value", [
    ("subject", "请填报\r\nBcc: everyone@unit-b.example"),
    ("subject", "请填报\nX-Injected: 1"),
    ("subject", "请填报\x00"),
    ("subject", "请填报\u2028下一行"),
    ("to", "zhangsan@unit-a.example\r\nBcc: everyone@unit-b.example"),
    ("to", "张三\n <zhangsan@unit-a.example>"),
    ("mail_from", "绩效目标跟踪 <noreply@jixiao.test>\rBcc: x@unit-b.example"),
    ("domain", "jixiao.test\r\nX-Injected: 1"),
])
def test_control_characters_in_a_header_are_refused_not_stripped(field, value):
    with pytest.raises(ValueError, match="control character"):
        reminder(**{field: value})


@pytest.mark.parametrize("to", ["zhangsan@unit-a.example, lisi@unit-b.example", "zhangsan",
                                "", "张三 <zhangsan@unit-a.example", "张三@单位.example"])
def test_anything_but_one_ascii_mailbox_is_refused(to):
    with pytest.raises(ValueError):
        reminder(to=to)


# --- settings -------------------------------------------------------------------------------

def test_without_smtp_host_mail_stays_in_the_outbox():
    assert SmtpSettings.from_mapping({}) is None
    assert SmtpSettings.from_mapping({"SMTP_HOST": "", "SMTP_PORT": "587"}) is None


@pytest.mark.parametrize("config, port, security", [
    ({}, 25, "none"),
    ({"SMTP_PORT": "465"}, 465, "ssl"),
    ({"SMTP_PORT": 587}, 587, "starttls"),
    ({"SMTP_USER": "noreply"}, 25, "starttls"),
    ({"SMTP_SECURITY": "ssl"}, 465, "ssl"),
    ({"SMTP_SECURITY": "STARTTLS"}, 587, "starttls"),
    ({"SMTP_PORT": "2525", "SMTP_SECURITY": "ssl"}, 2525, "ssl"),
])
def test_port_and_security_fill_each_other_in(config, port, security):
    settings = SmtpSettings.from_mapping({"SMTP_HOST": "smtp.example.gov.cn", **config})

    assert (settings.port, settings.security) == (port, security)


def test_settings_read_every_key_and_keep_the_password_out_of_logs():
    settings = SmtpSettings.from_mapping({
        "SMTP_HOST": "smtp.example.gov.cn", "SMTP_PORT": "587", "SMTP_USER": "noreply",
        "SMTP_PASSWORD": "s3cret-pass", "SMTP_TIMEOUT": "2.5", "MAIL_FROM": MAIL_FROM,
        "SMTP_CA_FILE": "/etc/ssl/gov-ca.pem"})

    assert settings == SmtpSettings(host="smtp.example.gov.cn", port=587, user="noreply",
                                    password="s3cret-pass", security="starttls",
                                    timeout_seconds=2.5, mail_from=MAIL_FROM,
                                    ca_file="/etc/ssl/gov-ca.pem")
    assert "s3cret-pass" not in repr(settings)
    assert SmtpSettings.from_mapping({"SMTP_HOST": "h"}).mail_from == DEFAULT_MAIL_FROM
    assert SmtpSettings.from_mapping({"SMTP_HOST": "h"}).timeout_seconds == 10.0


@pytest.mark.parametrize("config", [
    {"SMTP_SECURITY": "tls"},
    {"SMTP_USER": "noreply", "SMTP_SECURITY": "none"},   # a password in clear text
    {"SMTP_PORT": "0"},
    {"SMTP_TIMEOUT": "0"},
])
def test_unusable_settings_are_refused_at_startup(config):
    with pytest.raises(ValueError):
        SmtpSettings.from_mapping({"SMTP_HOST": "smtp.example.gov.cn", **config})


# --- backoff --------------------------------------------------------------------------------

def test_retries_back_off_exponentially_up_to_six_hours():
    assert [next_attempt_delay(n) for n in (1, 2, 3, 4)] == [
        timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=8)]
    assert next_attempt_delay(10) == timedelta(hours=6)
    assert next_attempt_delay(1000) == timedelta(hours=6)
    with pytest.raises(ValueError):
        next_attempt_delay(0)


def test_a_retry_becomes_failed_at_the_attempt_limit():
    busy = SendResult("retry", "服务器拒绝：451 4.3.0 try later")

    assert apply_attempt_limit(busy, MAX_ATTEMPTS - 1) == busy
    given_up = apply_attempt_limit(busy, MAX_ATTEMPTS)
    assert given_up.status == "failed"
    assert given_up.detail.startswith(busy.detail) and f"{MAX_ATTEMPTS} 次" in given_up.detail
    sent = SendResult("sent", "已发送：250 ok")
    assert apply_attempt_limit(sent, MAX_ATTEMPTS) == sent
