"""Digest e-mail: built from a real digest, sent to a real (local, in-process) SMTP server, parsed back.

The server is aiosmtpd on 127.0.0.1 and a free port; its handler keeps every envelope, so the tests
assert on the exact bytes a mail client would receive.
"""

from __future__ import annotations

import datetime as dt
import email
import logging
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

from monitor.digest.build import Digest, build_digest
from monitor.digest.chart import articles_per_day_png
from monitor.digest.mail import (
    CHART_CID,
    MailError,
    build_digest_message,
    send,
    send_message,
)
from monitor.digest.render import digest_subject, render_html, render_text
from monitor.errors import ConfigError
from monitor.models import Entity, Evidence, StoredArticle, TopicHit
from ports import free_port

UTC = dt.UTC
DAY = dt.date(2026, 11, 26)
TAXONOMY = {"terrorism": "Terrorism", "armed_conflict": "Armed conflict"}
TITLE_UA = "Kyiv – Київ: air-defence drill after drone strikes"
TITLE_EN = "OSCE conference in Astana discusses counter-terrorism cooperation"
SENDER = "Security monitor <monitor@example.org>"
RECIPIENTS = ["analyst@example.org", "Ана Аналітик <ana@example.org>"]
USER, PASSWORD = "digest-bot", "s3cret-Pa55"


# --- a local SMTP server --------------------------------------------------------------------------


class Inbox:
    """aiosmtpd handler: accepts every message and keeps its envelope."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


@pytest.fixture
def smtp_auth_server() -> Iterator[tuple[Inbox, int]]:
    """A server that requires AUTH; plain-text auth allowed because it is loopback-only."""
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=_authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


# --- a digest to send -----------------------------------------------------------------------------


def _article(id: int, title: str, topic: str, hour: int) -> StoredArticle:
    return StoredArticle(
        id=id,
        title=title,
        source="World media monitoring",
        url=f"https://news.example.org/{id}",
        first_seen=dt.datetime(2026, 11, 26, hour, 0, tzinfo=UTC),
        published=None,
        text=f"{title}. Officials said the measures would continue. Мир і безпека.",
        language="en",
        topics=[TopicHit(topic, TAXONOMY[topic], 0.8, [Evidence(topic.replace("_", " "), 3, 1.0)])],
        entities=[Entity("country", "Ukraine", "UA")],
    )


def _digest() -> Digest:
    articles = [
        _article(1, TITLE_UA, "armed_conflict", 8),
        _article(2, TITLE_EN, "terrorism", 9),
    ]
    return build_digest(articles, date=DAY, tz="Europe/Kyiv", taxonomy_labels=TAXONOMY)


def _chart(digest: Digest) -> bytes:
    return articles_per_day_png(
        [digest.date],
        [digest.total_articles],
        {t.label: [t.article_count] for t in digest.by_topic[:3]},
        f"Articles per day, {DAY}",
    )


def _message(chart: bytes | None = None) -> tuple[EmailMessage, Digest]:
    digest = _digest()
    msg = build_digest_message(
        subject=digest_subject(digest) + " – Київ",
        html=render_html(digest, chart_cid=CHART_CID if chart else None),
        text=render_text(digest),
        sender=SENDER,
        recipients=RECIPIENTS,
        chart_png=chart,
        chart_cid=CHART_CID,
    )
    return msg, digest


def _received(inbox: Inbox) -> EmailMessage:
    assert len(inbox.envelopes) == 1
    raw = inbox.envelopes[0].original_content
    assert isinstance(raw, bytes)
    parsed = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(parsed, EmailMessage)
    return parsed


# --- sending and parsing back ---------------------------------------------------------------------


def test_digest_with_chart_arrives_intact(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    digest = _digest()
    chart = _chart(digest)
    msg, _ = _message(chart)

    send_message(msg, host="127.0.0.1", port=port, timeout=10)

    envelope = inbox.envelopes[0]
    assert envelope.mail_from == "monitor@example.org"
    assert envelope.rcpt_tos == ["analyst@example.org", "ana@example.org"]
    received = _received(inbox)
    # Headers: the subject's en dash and Cyrillic travel as RFC 2047 words and decode back.
    assert received["Subject"] == f"{digest_subject(digest)} – Київ"
    assert received["From"].addresses[0].addr_spec == "monitor@example.org"
    assert received["From"].addresses[0].display_name == "Security monitor"
    assert [a.addr_spec for a in received["To"].addresses] == ["analyst@example.org", "ana@example.org"]
    assert received["To"].addresses[1].display_name == "Ана Аналітик"
    assert received["Message-ID"].endswith("@example.org>")
    assert email.utils.parsedate_to_datetime(received["Date"]).tzinfo is not None

    # Structure: alternative(text/plain, related(text/html, image/png)), plain text first.
    assert received.get_content_type() == "multipart/alternative"
    first, second = received.iter_parts()
    assert first.get_content_type() == "text/plain"
    assert second.get_content_type() == "multipart/related"
    html_part, image = second.iter_parts()
    assert html_part.get_content_type() == "text/html"
    assert image.get_content_type() == "image/png"

    text = first.get_content()
    html = html_part.get_content()
    assert TITLE_UA in text and TITLE_EN in text
    assert "Київ" in html and TITLE_EN in html
    assert f'src="cid:{CHART_CID}"' in html
    assert image["Content-ID"] == f"<{CHART_CID}>"
    assert image.get_content_disposition() == "inline"
    assert image.get_filename() == "topic-volume.png"
    png = image.get_content()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert png == chart


def test_body_is_seven_bit_on_the_wire(smtp_server: tuple[Inbox, int]) -> None:
    # Non-ASCII bodies go quoted-printable, so a relay without 8BITMIME cannot mangle them.
    inbox, port = smtp_server
    msg, _ = _message(_chart(_digest()))
    send_message(msg, host="127.0.0.1", port=port, timeout=10)
    raw = inbox.envelopes[0].original_content
    assert isinstance(raw, bytes)
    assert raw.isascii()


def test_digest_without_chart_is_plain_alternative(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    msg, _ = _message(None)
    send_message(msg, host="127.0.0.1", port=port, timeout=10)
    received = _received(inbox)
    assert [p.get_content_type() for p in received.iter_parts()] == ["text/plain", "text/html"]
    assert "cid:" not in received.get_body(("html",)).get_content()  # type: ignore[union-attr]


# aiosmtpd warns about AUTH without TLS; the test server listens on loopback only.
NO_TLS_WARNING = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@NO_TLS_WARNING
def test_send_url_wrapper_and_login(smtp_auth_server: tuple[Inbox, int], caplog: Any) -> None:
    inbox, port = smtp_auth_server
    msg, _ = _message(_chart(_digest()))
    caplog.set_level(logging.DEBUG)
    # "-" and a percent-escaped character check the URL decoding of the credentials.
    send(msg, f"smtp://{USER}:{PASSWORD.replace('-', '%2D')}@127.0.0.1:{port}", timeout=10)
    assert _received(inbox)["Subject"].endswith("Київ")
    assert PASSWORD not in caplog.text and USER not in caplog.text


@NO_TLS_WARNING
def test_wrong_password_raises_without_leaking_it(smtp_auth_server: tuple[Inbox, int], caplog: Any) -> None:
    inbox, port = smtp_auth_server
    msg, _ = _message(None)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(MailError, match=rf"SMTP server 127.0.0.1:{port} rejected the login") as info:
        send_message(msg, host="127.0.0.1", port=port, username=USER, password="wrong-one", timeout=10)
    assert "wrong-one" not in str(info.value) and "wrong-one" not in caplog.text
    assert inbox.envelopes == []


def test_closed_port_raises_clear_error() -> None:
    port = free_port()  # nothing listens there once the probe socket is closed
    msg, _ = _message(None)
    with pytest.raises(MailError, match=rf"^SMTP server 127\.0\.0\.1:{port} refused the connection$"):
        send_message(msg, host="127.0.0.1", port=port, timeout=5)


def test_credentials_not_sent_in_clear_to_remote_host() -> None:
    msg, _ = _message(None)
    with pytest.raises(ConfigError, match="unencrypted") as info:
        send(msg, f"smtp://{USER}:{PASSWORD}@mail.example.org:25")
    assert PASSWORD not in str(info.value)


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://mail.example.org", "must look like smtp://"),
        ("smtp://mail.example.org:abc", "invalid port"),
        ("smtp://mail.example.org?tls=1", "unknown parameter 'tls'"),
        ("smtps://mail.example.org?starttls=1", "already TLS"),
    ],
)
def test_bad_smtp_url_is_a_config_error(url: str, error: str) -> None:
    msg, _ = _message(None)
    with pytest.raises(ConfigError, match=error):
        send(msg, url)


# --- building (pure) ------------------------------------------------------------------------------


def test_fixed_date_and_message_id() -> None:
    digest = _digest()
    msg = build_digest_message(
        subject="s",
        html=render_html(digest),
        text=render_text(digest),
        sender="monitor@example.org",
        recipients=["a@example.org"],
        chart_png=None,
        chart_cid=CHART_CID,
        date=dt.datetime(2026, 11, 27, 6, 0, tzinfo=UTC),
        message_id="<digest-2026-11-26@example.org>",
    )
    assert msg["Date"] == "Fri, 27 Nov 2026 06:00:00 +0000"
    assert msg["Message-ID"] == "<digest-2026-11-26@example.org>"


def test_chart_must_be_referenced_by_the_html() -> None:
    digest = _digest()
    with pytest.raises(ValueError, match="does not reference the chart"):
        build_digest_message(
            subject="s",
            html=render_html(digest),  # rendered without chart_cid
            text=render_text(digest),
            sender=SENDER,
            recipients=RECIPIENTS,
            chart_png=_chart(digest),
            chart_cid=CHART_CID,
        )


@pytest.mark.parametrize("kwargs", [{"recipients": []}, {"chart_png": b"GIF89a"}, {"chart_cid": "a b"}])
def test_builder_rejects_bad_input(kwargs: dict[str, Any]) -> None:
    digest = _digest()
    options: dict[str, Any] = {
        "subject": "s",
        "html": render_html(digest, chart_cid=CHART_CID),
        "text": "t",
        "sender": SENDER,
        "recipients": RECIPIENTS,
        "chart_png": None,
        "chart_cid": CHART_CID,
    }
    with pytest.raises(ValueError):
        build_digest_message(**{**options, **kwargs})


def test_subject_with_newline_is_rejected() -> None:
    with pytest.raises(ValueError):
        build_digest_message(
            subject="a\nBcc: x@example.org",
            html="<p>h</p>",
            text="t",
            sender=SENDER,
            recipients=["a@b.c"],
            chart_png=None,
        )


def test_render_html_places_chart_only_when_asked() -> None:
    digest = _digest()
    plain = render_html(digest)
    assert render_html(digest, chart_cid=None) == plain
    assert "<img" not in plain
    with_chart = render_html(digest, chart_cid=CHART_CID)
    assert with_chart.count(f'<img src="cid:{CHART_CID}"') == 1
    # Only the image line is added: the rest of the document is unchanged.
    assert [line for line in with_chart.splitlines() if "<img" not in line] == plain.splitlines()
