"""Sending the digest: an HTML email over SMTP (ICP_SMTP_URL) and/or JSON to a webhook.

``validate()`` lists every problem at once (no recipient, a bad address, no SMTP server
configured, a password that would travel unencrypted, a webhook that is not a URL) and
sends nothing; ``run()`` builds the digest from the views and sends it.
"""

from __future__ import annotations

import ipaddress
import smtplib
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from urllib.parse import unquote, urlsplit

import requests

from app.digest import Digest, build_digest, to_html, to_json, to_text
from app.errors import CommandError
from app.views.context import Context
from app.views.errors import ViewError
from app.views.history import baseline
from db.config import Config, get_config

TIMEOUT_S = 30
PORTS = {"smtp": 25, "smtps": 465}


@dataclass(frozen=True)
class SmtpServer:
    """Where and how the digest is sent, read from ICP_SMTP_URL and ICP_SMTP_STARTTLS."""

    scheme: str
    host: str
    port: int
    user: str | None
    password: str | None
    starttls: bool

    @classmethod
    def from_config(cls, cfg: Config) -> SmtpServer:
        """The server ICP_SMTP_URL names; :class:`CommandError` when it is not usable."""
        url = urlsplit(cfg.icp_smtp_url or "")
        problems = []
        if url.scheme not in PORTS:
            problems.append("ICP_SMTP_URL must start with smtp:// or smtps://")
        if not url.hostname:
            problems.append("ICP_SMTP_URL names no host (smtp://user:password@host:port)")
        try:
            port = url.port or PORTS.get(url.scheme, 25)
        except ValueError:
            problems.append("ICP_SMTP_URL has a port that is not a number")
            port = 0
        server = cls(
            url.scheme, url.hostname or "", port,
            unquote(url.username) if url.username else None,
            unquote(url.password) if url.password else None,
            cfg.icp_smtp_starttls,
        )
        if server.user and server.scheme == "smtp" and not server.starttls and not _local(
            server.host
        ):
            problems.append(
                "ICP_SMTP_URL sends a password without encryption: use smtps:// or set "
                "ICP_SMTP_STARTTLS=true"
            )
        if problems:
            raise CommandError(problems)
        return server

    def send(self, message: EmailMessage) -> None:
        """Send ``message`` to its recipients (TLS as configured, then the login if any)."""
        context = ssl.create_default_context()
        if self.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=TIMEOUT_S, context=context
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_S)
        with client:
            if self.starttls:
                client.starttls(context=context)
            if self.user:
                client.login(self.user, self.password or "")
            client.send_message(message)


def _local(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _address_problem(address: str) -> str | None:
    _name, email = parseaddr(address)
    if not email or "@" not in email or email.startswith("@") or email.endswith("@"):
        return f"{address!r} is not an email address"
    return None


@dataclass
class SendDigest:
    """Send the digest of ``ctx`` since import ``since`` (default: the previous record) to
    the addresses ``to`` and/or POST it as JSON to ``webhook``."""

    ctx: Context
    to: Sequence[str] = ()
    webhook: str | None = None
    since: int | None = None
    config: Config = field(default_factory=get_config)

    def validate(self) -> SmtpServer | None:
        """The SMTP server to use (None without recipients); :class:`CommandError` listing
        every problem."""
        problems = []
        if not self.to and not self.webhook:
            problems.append("nothing to send to: give --to ADDRESS (repeatable) or --webhook URL")
        problems += [p for p in map(_address_problem, self.to) if p]
        if self.webhook is not None:
            hook = urlsplit(self.webhook)
            if hook.scheme not in ("http", "https") or not hook.hostname:
                problems.append(f"--webhook {self.webhook!r} is not an http:// or https:// URL")
        server = None
        if self.to:
            if not self.config.icp_smtp_url:
                problems.append(
                    "sending email needs ICP_SMTP_URL (smtp://user:password@host:port)"
                )
            else:
                try:
                    server = SmtpServer.from_config(self.config)
                except CommandError as exc:
                    problems += exc.problems
        if self.ctx.empty:
            problems.append("the warehouse holds no data yet: there is nothing to digest")
        elif self.since is not None:
            try:
                baseline(self.ctx, self.since)
            except ViewError as exc:
                problems.append(str(exc))
        if problems:
            raise CommandError(problems)
        return server

    def run(self) -> Digest:
        """Build the digest and send it; the digest sent."""
        server = self.validate()
        digest = build_digest(self.ctx, self.since, self.config.icp_public_url)
        if server is not None:
            try:
                server.send(self.message(digest))
            except (smtplib.SMTPException, OSError) as exc:
                raise CommandError(
                    [f"the SMTP server {server.host}:{server.port} did not take the digest: {exc}"]
                ) from None
        if self.webhook is not None:
            try:
                reply = requests.post(self.webhook, json=to_json(digest), timeout=TIMEOUT_S)
            except requests.RequestException as exc:
                raise CommandError([f"the webhook could not be reached: {exc}"]) from None
            if reply.status_code >= 400:
                raise CommandError([f"the webhook answered {reply.status_code}: {reply.text[:200]}"])
        return digest

    def message(self, digest: Digest) -> EmailMessage:
        """The email: the plain text, and the HTML as its alternative."""
        message = EmailMessage()
        message["Subject"] = digest.subject
        message["From"] = self.config.icp_smtp_from or formataddr(
            ("ICP Lens", f"icp-lens@{socket.gethostname() or 'localhost'}")
        )
        message["To"] = ", ".join(self.to)
        message.set_content(to_text(digest))
        message.add_alternative(to_html(digest), subtype="html")
        return message
