"""``icp digest``: after two monthly imports a real SMTP server (aiosmtpd) receives the
tier changes between them, and a local HTTP server receives the same as JSON."""

from __future__ import annotations

import email
import email.policy
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from app.cli import app
from db.config import get_config
from loadtest.server import free_port
from tests.integration.monthly_exports import write_exports

runner = CliRunner()
PUBLIC_URL = "https://icp.example.com"


class Inbox:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on a free loopback port."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture(scope="module")
def hook() -> Iterator[tuple[list[dict], str]]:
    """A local HTTP server keeping the JSON bodies POSTed to it; its URL."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield received, f"http://127.0.0.1:{server.server_port}/hooks/icp"
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp_env(env_db: sa.Engine, smtp, monkeypatch: pytest.MonkeyPatch) -> Iterator[sa.Engine]:
    """The test warehouse, the SMTP server and the public URL in the environment."""
    monkeypatch.setenv("ICP_SMTP_URL", f"smtp://127.0.0.1:{smtp[1]}")
    monkeypatch.setenv("ICP_PUBLIC_URL", PUBLIC_URL)
    get_config.cache_clear()
    yield env_db
    get_config.cache_clear()


def _icp(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_the_digest_mails_and_posts_the_tier_changes_between_two_imports(
    smtp_env: sa.Engine, smtp, hook, tmp_path: Path
) -> None:
    inbox, _port = smtp
    received, url = hook
    _icp("import", *map(str, write_exports(tmp_path / "dec", "2024-12")))
    # Next month's exports: four Retail accounts left in January.
    _icp("import", *map(str, write_exports(tmp_path / "jan", "2025-01")))
    out = _icp("digest", "--to", "ceo@example.com", "--to", "Ana <cro@example.com>",
               "--webhook", url)
    assert "sent to ceo@example.com, Ana <cro@example.com>, " + url in out

    (recipients, message), = inbox.messages
    assert recipients == ["ceo@example.com", "cro@example.com"]
    assert message["Subject"] == "ICP Lens digest, as of 2025-01: 2 tier changes"
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    page = message.get_body(("html",)).get_content()
    assert "Compared with the import of batch 1" in text and "(as of 2024-12)" in text
    # Retail and its one sub-industry fell from Healthy to Accidental ICP, NRR 100% -> 67%.
    for line in ("Retail: Healthy → Accidental ICP (NRR 100% → 67%, -33 pts)",
                 "Retail / Online: Healthy → Accidental ICP (NRR 100% → 67%, -33 pts)"):
        assert line in text
    assert "Banking" not in text  # unchanged tiers are not news
    assert f"{PUBLIC_URL}/?as_of=2025-01" in text
    assert f'href="{PUBLIC_URL}/segment?vertical=Retail&amp;as_of=2025-01"' in page
    assert "Accidental ICP" in page and "67%" in page and "-33 pts" in page

    body, = received
    assert body["subject"] == message["Subject"] and body["text"] == text
    assert body["as_of"] == "2025-01" and body["since"]["batch_id"] == 1
    changes = {r["segment_label"]: r for r in body["tier_changes"]}
    assert set(changes) == {"Retail", "Retail / Online"}
    assert changes["Retail"]["previous_tier"] == "healthy"
    assert changes["Retail"]["tier"] == "accidental_icp"
    assert changes["Retail"]["nrr"] == pytest.approx(8 / 12)
    assert body["url"] == f"{PUBLIC_URL}/?as_of=2025-01"

    # Against January itself (--since its batch) nothing changed.
    _icp("digest", "--since", "2", "--webhook", url)
    assert received[-1]["tier_changes"] == [] and "No segment changed tier." in received[-1]["text"]


def test_the_digest_says_every_problem_and_sends_nothing(
    env_db: sa.Engine, smtp, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    inbox, port = smtp
    sent = len(inbox.messages)
    monkeypatch.delenv("ICP_SMTP_URL", raising=False)
    get_config.cache_clear()
    _icp("import", *map(str, write_exports(tmp_path, "2024-12")))
    result = runner.invoke(app, ["digest", "--to", "not-an-address", "--webhook", "ftp://x"])
    assert result.exit_code == 1
    for problem in ("'not-an-address' is not an email address", "is not an http:// or https://",
                    "sending email needs ICP_SMTP_URL"):
        assert problem in result.output
    monkeypatch.setenv("ICP_SMTP_URL", f"smtp://ana:secret@mail.example.com:{port}")
    get_config.cache_clear()
    result = runner.invoke(app, ["digest", "--to", "ceo@example.com"])
    assert result.exit_code == 1
    assert "sends a password without encryption" in result.output
    unknown = runner.invoke(app, ["digest", "--since", "9", "--to", "ceo@example.com"])
    assert "no tier history was recorded for the import of batch 9" in unknown.output
    assert len(inbox.messages) == sent
    get_config.cache_clear()
