"""A short summary of the recommendations posted to a team's chat (a Slack or Microsoft Teams webhook).

The webhook URL is a secret (whoever holds it can post to the channel), so it comes from
the environment (``RIGHTSIZER_SLACK_WEBHOOK_URL``, ``RIGHTSIZER_TEAMS_WEBHOOK_URL``) and no
message names more of it than its host.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from rightsizer.errors import RightsizerError
from rightsizer.quantity import format_cpu, format_memory
from rightsizer.recommend.model import RISKS, RecommendationSet
from rightsizer.report.totals import by_namespace, totals

WEBHOOK_ENV = {"slack": "RIGHTSIZER_SLACK_WEBHOOK_URL", "teams": "RIGHTSIZER_TEAMS_WEBHOOK_URL"}


def summary_lines(recs: RecommendationSet) -> list[str]:
    """The headline, then a line per namespace with something to resize."""
    whole = totals(recs)
    risks = " / ".join(f"{sum(r.risk == level for r in recs if r.requests)} {level}" for level in reversed(RISKS))
    lines = [f"rightsizer: {whole.changed} of {whole.containers} containers to resize (risk {risks})"]
    if whole.cost is not None:
        lines.append(f"requests cost ${whole.cost[0]:,.0f} → ${whole.cost[1]:,.0f} a month (all pods)")
    for namespace, t in by_namespace(recs).items():
        if t.changed:
            lines.append(f"{namespace}: {t.changed} of {t.containers} to resize; CPU {format_cpu(t.cpu[0])} → "
                         f"{format_cpu(t.cpu[1])}, memory {format_memory(t.memory[0])} → {format_memory(t.memory[1])}")
    return lines


def slack_payload(recs: RecommendationSet) -> dict[str, Any]:
    """A Slack incoming-webhook message: one ``text`` field."""
    return {"text": "\n".join(summary_lines(recs))}


def teams_payload(recs: RecommendationSet) -> dict[str, Any]:
    """A Teams Workflows webhook message: one Adaptive Card, a text block per line."""
    lines = summary_lines(recs)
    body = [{"type": "TextBlock", "text": line, "wrap": True, **({"weight": "Bolder"} if i == 0 else {})}
            for i, line in enumerate(lines)]
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": body}
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}


_PAYLOADS = {"slack": slack_payload, "teams": teams_payload}


def notify(recs: RecommendationSet, service: str, url: str | None = None, timeout: float = 10.0) -> None:
    """Post the summary to ``service``'s webhook (``url``, or the one in its environment variable)."""
    if service not in _PAYLOADS:
        raise RightsizerError(f"unknown chat service {service!r}: choose {' or '.join(_PAYLOADS)}")
    url = url or os.environ.get(WEBHOOK_ENV[service])
    if not url:
        raise RightsizerError(f"no webhook for {service}: set {WEBHOOK_ENV[service]}")
    try:
        parts = urlsplit(url)
        host = parts.hostname or "the webhook"
    except ValueError:  # an unclosed "[": not a URL at all
        parts, host = None, ""
    if parts is None or parts.scheme not in ("http", "https"):
        raise RightsizerError(f"{WEBHOOK_ENV[service]} is not an http(s) URL")
    body = json.dumps(_PAYLOADS[service](recs)).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            answer.read()
    except urllib.error.HTTPError as exc:
        raise RightsizerError(f"{service} webhook at {host} refused the message: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RightsizerError(f"cannot reach the {service} webhook at {host}: {reason}") from None
