"""The digest as an e-mail: a pure message builder and the SMTP sender (the I/O edge of the digest).

Message layout, the one mail clients agree on for "HTML with an embedded image, plus plain text":

    multipart/alternative
    ├── text/plain; charset=utf-8          (first: the fallback; clients show the last part they can)
    └── multipart/related                  (only when there is a chart; else text/html directly)
        ├── text/html; charset=utf-8       (references the image as <img src="cid:CHART_CID">)
        └── image/png                      Content-ID: <CHART_CID>, inline, topic-volume.png

Bodies are quoted-printable rather than 8bit: smtplib does not ask the server for 8BITMIME, and a
relay without it may mangle raw UTF-8; QP keeps non-ASCII text intact through any relay and the
ASCII-heavy HTML stays small. Non-ASCII subjects and names become RFC 2047 encoded words.

Credentials never appear in a log line or an exception message: errors name host and port only.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import smtplib
import socket
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from monitor.errors import ConfigError, MonitorError

log = logging.getLogger(__name__)

# A fixed Content-ID keeps render_html(..., chart_cid=CHART_CID) a pure function of the digest. It
# only has to be unique within the message (RFC 2392 clients resolve cid: against the same message).
CHART_CID = "topic-volume@digest.monitor"
CHART_FILENAME = "topic-volume.png"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class MailError(MonitorError):
    """The digest could not be handed to the SMTP server; the caller (CLI, Airflow) retries.

    Lives here until errors.py gains it; subclassing MonitorError keeps the CLI's clean message.
    """


def build_digest_message(
    *,
    subject: str,
    html: str,
    text: str,
    sender: str,
    recipients: Sequence[str],
    chart_png: bytes | None,
    chart_cid: str = CHART_CID,
    date: dt.datetime | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    """The digest e-mail, ready for `send_message`. Pure apart from the defaults for date and id.

    `date` (aware; default now) and `message_id` (default a fresh one on the sender's domain) are
    parameters so tests and re-sends can fix them. When `chart_png` is given, `html` must reference
    it as `cid:<chart_cid>`: an unreferenced inline image shows up as a stray attachment.
    """
    if not recipients:
        raise ValueError("a digest needs at least one recipient")
    if date is None:
        date = dt.datetime.now(dt.UTC)
    elif date.tzinfo is None or date.utcoffset() is None:
        raise ValueError(f"date must be timezone-aware, got {date!r}")
    cid = _bare_cid(chart_cid)
    if chart_png is not None:
        if not chart_png.startswith(PNG_SIGNATURE):
            raise ValueError("chart_png is not a PNG image")
        if f"cid:{cid}" not in html:
            raise ValueError(f"the HTML does not reference the chart: render it with chart_cid={cid!r}")

    msg = EmailMessage()  # policy=email.policy.default: RFC 5322 line endings and header folding
    # Header values with CR/LF raise ValueError here (policy.default), so no header injection.
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id or make_msgid(domain=_domain(sender))
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    if chart_png is not None:
        html_part = msg.get_body(("html",))
        assert isinstance(html_part, EmailMessage)  # added just above
        # add_related turns the text/html part into multipart/related holding the HTML and the image.
        html_part.add_related(
            chart_png,
            maintype="image",
            subtype="png",
            cid=f"<{cid}>",
            disposition="inline",
            filename=CHART_FILENAME,
        )
    return msg


def send_message(
    msg: EmailMessage,
    *,
    host: str,
    port: int,
    username: str | None = None,
    password: str | None = None,
    use_ssl: bool = False,
    starttls: bool = False,
    timeout: float = 30.0,
) -> None:
    """Hand `msg` to the SMTP server at host:port; raise `MailError` if it is not accepted.

    `use_ssl` is implicit TLS (smtps, usually port 465); `starttls` upgrades a plain connection
    (usually port 587). Both verify the server certificate. A login is refused over an unencrypted
    connection to anything but a loopback address, where the password would cross the network in
    clear. Recipients refused one by one (the rest accepted) are logged, not raised: a retry would
    mail the accepted ones twice.
    """
    if use_ssl and starttls:
        raise ValueError("use_ssl and starttls exclude each other (implicit TLS vs upgrade)")
    if username and not (use_ssl or starttls) and not _is_loopback(host):
        raise ConfigError(
            f"refusing to send SMTP credentials unencrypted to {host}:{port}: "
            "use smtps:// or ?starttls=1 in MONITOR_SMTP_URL"
        )
    where = f"{host}:{port}"
    context = ssl.create_default_context()
    try:
        smtp: smtplib.SMTP
        if use_ssl:
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            if starttls:
                smtp.starttls(context=context)
            if username:
                smtp.login(username, password or "")
            refused = smtp.send_message(msg)
    except ConnectionRefusedError as exc:
        raise MailError(f"SMTP server {where} refused the connection") from exc
    except socket.gaierror as exc:
        raise MailError(f"SMTP server {where}: host name not found ({exc.strerror})") from exc
    except TimeoutError as exc:  # socket.timeout is TimeoutError since Python 3.10
        raise MailError(f"SMTP server {where} did not answer within {timeout:g} s") from exc
    except smtplib.SMTPAuthenticationError as exc:
        # The user name is left out too: with the host it is half of a credential pair.
        raise MailError(f"SMTP server {where} rejected the login: {_reply(exc)}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        refused_all = ", ".join(f"{rcpt} ({_reply_of(*r)})" for rcpt, r in sorted(exc.recipients.items()))
        raise MailError(f"SMTP server {where} refused every recipient: {refused_all}") from exc
    except smtplib.SMTPSenderRefused as exc:
        raise MailError(f"SMTP server {where} refused the sender {exc.sender}: {_reply(exc)}") from exc
    except smtplib.SMTPNotSupportedError as exc:  # e.g. "STARTTLS extension not supported by server."
        raise MailError(f"SMTP server {where}: {exc}") from exc
    except (smtplib.SMTPConnectError, smtplib.SMTPHeloError) as exc:
        raise MailError(f"SMTP server {where} refused the session: {_reply(exc)}") from exc
    except smtplib.SMTPResponseException as exc:
        raise MailError(f"SMTP server {where} rejected the message: {_reply(exc)}") from exc
    except ssl.SSLError as exc:
        raise MailError(f"SMTP server {where}: TLS failed ({exc.reason or exc})") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"SMTP server {where}: {type(exc).__name__}: {exc}") from exc

    if refused:
        log.warning(
            "digest mail: some recipients refused",
            extra={"smtp_server": where, "refused": sorted(refused), "message_id": msg["Message-ID"]},
        )
    log.info(
        "digest mail sent",
        extra={
            "smtp_server": where,
            "recipients": len(msg.get_all("To", [])),
            "message_id": msg["Message-ID"],
        },
    )


def send(msg: EmailMessage, smtp_url: str, timeout: float = 30.0) -> None:
    """Send through `smtp://[user:password@]host[:port][?starttls=1]`, or smtps:// for implicit TLS.

    User and password are percent-decoded (a "@" in a password is written %40). Error messages never
    repeat the URL, which carries the password.
    """
    parts = urlsplit(smtp_url)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ConfigError(f"MONITOR_SMTP_URL must look like smtp://host:port, not {parts.scheme}://…")
    try:
        port = parts.port
    except ValueError:  # "smtp://host:abc": urlsplit parses lazily and raises here
        raise ConfigError("MONITOR_SMTP_URL has an invalid port") from None
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"starttls"})
    if unknown:
        raise ConfigError(f"MONITOR_SMTP_URL: unknown parameter {unknown[0]!r} (known: starttls)")
    starttls = query.get("starttls", ["0"])[-1].lower() in {"1", "true", "yes", "on"}
    use_ssl = parts.scheme == "smtps"
    if use_ssl and starttls:
        raise ConfigError("MONITOR_SMTP_URL: smtps:// is already TLS; drop ?starttls=1")
    send_message(
        msg,
        host=parts.hostname,
        # Defaults: 465 is smtps (RFC 8314); 25 is plain SMTP, as the CLI has always used.
        port=port or (465 if use_ssl else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        use_ssl=use_ssl,
        starttls=starttls,
        timeout=timeout,
    )


def _bare_cid(cid: str) -> str:
    """The Content-ID without angle brackets (the form `cid:` URLs use), checked for sanity."""
    bare = cid.strip().removeprefix("<").removesuffix(">")
    if not bare or any(c.isspace() or c in '<>"' for c in bare) or not bare.isascii():
        raise ValueError(f"invalid Content-ID {cid!r}: use an ASCII id like {CHART_CID!r}")
    return bare


def _domain(sender: str) -> str:
    # parseaddr: the sender may be 'Security monitor <monitor@example.org>'.
    domain = parseaddr(sender)[1].rpartition("@")[2]
    return domain or "localhost"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _reply(exc: smtplib.SMTPResponseException) -> str:
    return _reply_of(exc.smtp_code, exc.smtp_error)


def _reply_of(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(message.split())}"
