"""Sending the digest by SMTP (the I/O edge of the digest). Message building is pure and tested apart."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from monitor.errors import ConfigError


def build_message(*, subject: str, html: str, text: str, sender: str, recipients: list[str]) -> EmailMessage:
    """multipart/alternative: plain text first, HTML last (clients show the last part they can render)."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


def send(msg: EmailMessage, smtp_url: str, timeout: float = 30.0) -> None:
    """Send through `smtp://[user:password@]host:port`; smtps:// for implicit TLS, ?starttls=1 to upgrade."""
    parts = urlsplit(smtp_url)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ConfigError(f"MONITOR_SMTP_URL must look like smtp://host:port, not {parts.scheme}://…")
    port = parts.port or (465 if parts.scheme == "smtps" else 25)
    cls = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    with cls(parts.hostname, port, timeout=timeout) as smtp:
        if "starttls=1" in parts.query:
            smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(msg)
