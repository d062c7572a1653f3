"""The chat summary, posted to a local server that checks the documented Slack and Teams webhook payloads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from local_http import serve

from rightsizer.api import load_history
from rightsizer.errors import RightsizerError
from rightsizer.notify import notify
from rightsizer.recommend import recommend


def slack_shape(doc: dict) -> bool:
    """Slack incoming webhooks take a JSON object whose ``text`` is the message."""
    return isinstance(doc.get("text"), str) and bool(doc["text"].strip())


def teams_shape(doc: dict) -> bool:
    """Teams Workflows webhooks take a message with one Adaptive Card attachment."""
    attachments = doc.get("attachments")
    if doc.get("type") != "message" or not isinstance(attachments, list) or len(attachments) != 1:
        return False
    card = attachments[0].get("content", {})
    return (attachments[0].get("contentType") == "application/vnd.microsoft.card.adaptive"
            and card.get("type") == "AdaptiveCard" and isinstance(card.get("version"), str)
            and all(b.get("type") == "TextBlock" and isinstance(b.get("text"), str) for b in card.get("body", [])))


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict]]]:
    received: list[dict] = []

    def answer(path: str, headers: dict[str, str], raw: bytes) -> tuple[int, bytes]:
        body = json.loads(raw)
        received.append({"path": path, "type": headers["Content-Type"], "body": body})
        ok = headers["Content-Type"] == "application/json" and (
            slack_shape(body) if path.startswith("/slack/") else teams_shape(body))
        return (200, b"ok") if ok else (400, b"invalid_payload")

    with serve(answer) as base:
        yield base, received


@pytest.fixture(scope="module")
def recs():
    return recommend(load_history(demo=True))


def test_slack_and_teams_get_their_documented_payloads(webhook, recs):
    base, received = webhook
    notify(recs, "slack", f"{base}/slack/T000/B000/secret-token")
    notify(recs, "teams", f"{base}/teams/workflows/secret-token")
    slack, teams = received[0]["body"], received[1]["body"]
    changed = sum(r.changed for r in recs)
    assert slack["text"].startswith(f"rightsizer: {changed} of {len(recs)} containers to resize")
    texts = [b["text"] for b in teams["attachments"][0]["content"]["body"]]
    assert texts == slack["text"].split("\n")
    namespaces = {r.key.namespace for r in recs if r.changed}
    assert {line.split(":")[0] for line in texts[1:]} == namespaces


def test_a_refused_or_missing_webhook_is_one_line_without_the_secret(webhook, recs, monkeypatch):
    base, _ = webhook
    with pytest.raises(RightsizerError, match="refused the message: HTTP 400") as refused:
        notify(recs, "teams", f"{base}/slack/secret-token")  # a Teams card sent where Slack's shape is expected
    assert "secret-token" not in str(refused.value)
    monkeypatch.delenv("RIGHTSIZER_SLACK_WEBHOOK_URL", raising=False)
    with pytest.raises(RightsizerError, match="set RIGHTSIZER_SLACK_WEBHOOK_URL"):
        notify(recs, "slack")


def test_the_cli_posts_after_the_report(webhook):
    base, received = webhook
    env = {**os.environ, "RIGHTSIZER_SLACK_WEBHOOK_URL": f"{base}/slack/T0/B0/secret-token"}
    result = subprocess.run([sys.executable, "-m", "rightsizer", "report", "--demo", "-q", "-n", "shop", "-o", "json",
                             "--notify", "slack"], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["summary"]["containers"] == 5
    assert received and received[0]["body"]["text"].startswith("rightsizer: 5 of 5 containers to resize")
    assert "secret-token" not in result.stdout + result.stderr
