"""Webhook alerts: post alarms as a Slack-compatible JSON message.

The message is ``{"text": <one-line summary>, "blocks": [...]}`` (Slack incoming webhooks; the
``text`` alone is enough for Mattermost, Rocket.Chat, Teams workflows and most chat bridges).
Only alarms are posted. A failed post (timeout, refused connection, HTTP error) is retried
once; if it still fails the command prints one warning line and goes on — an alert channel
being down never breaks ``kpis check``.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

from telemetry_kpis.results import HealthResult

if TYPE_CHECKING:
    from telemetry_kpis.results import Evaluation, QualityResult

TIMEOUT_SECONDS = 10.0
RETRY_DELAY_SECONDS = 1.0
MAX_ALARM_BLOCKS = 40  # Slack accepts at most 50 blocks per message


def _alarm_line(item: HealthResult | QualityResult) -> str:
    """One alarm: the breaches, the change vs the previous period and a year earlier, the top
    contributors of that change (when known) and the runbook."""
    from telemetry_kpis.drivers import describe_contributors
    from telemetry_kpis.formatting import format_change_pct

    if isinstance(item, HealthResult):
        what = "; ".join(item.breaches) if not item.redacted else "breach (values redacted)"
        if not item.breaches:
            what = item.note or "no data"
        where = f"{item.metric}/{item.grain}" if item.grain else item.metric
        if item.segment:
            where += f", {item.segment}"
        changes = ""
        if item.pop_change_pct is not None or item.yoy_change_pct is not None:
            changes = (
                f" (vs prev {format_change_pct(item.pop_change_pct)}, "
                f"YoY {format_change_pct(item.yoy_change_pct)})"
            )
        movers = ""
        if item.contributors:
            movers = f"; top contributors: {describe_contributors(item.contributors, item.kind)}"
        return f"*{item.key}* ({where}): {what}{changes}{movers} — <{item.runbook}|runbook>"
    details = f" ({item.details})" if item.details else ""
    return f"*data quality*: {item.description} failed for {item.failed} rows{details}"


def build_message(evaluation: Evaluation, *, source: str = "kpis check") -> dict[str, Any]:
    """The Slack-compatible payload for the evaluation's alarms."""
    alarms = evaluation.alarms
    summary = (
        f"{source}: {len(alarms)} alarm{'s' if len(alarms) != 1 else ''} as of {evaluation.as_of}"
    )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": summary[:150]}},
    ]
    for item in alarms[:MAX_ALARM_BLOCKS]:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": _alarm_line(item)[:3000]}}
        )
    if len(alarms) > MAX_ALARM_BLOCKS:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"… and {len(alarms) - MAX_ALARM_BLOCKS} more"},
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"level {evaluation.level} · generated "
                    f"{evaluation.generated_at.isoformat(timespec='seconds')}",
                }
            ],
        }
    )
    lines = "\n".join(f"• {_alarm_line(a)}" for a in alarms[:MAX_ALARM_BLOCKS])
    return {"text": f"{summary}\n{lines}" if lines else summary, "blocks": blocks}


def safe_destination(url: str) -> str:
    """scheme://host[:port] only: webhook paths are secrets and must not reach the logs."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}" if parts.netloc else "(invalid)"


def post_json(
    url: str,
    payload: dict[str, Any],
    *,
    timeout: float = TIMEOUT_SECONDS,
    retries: int = 1,
    retry_delay: float = RETRY_DELAY_SECONDS,
) -> str | None:
    """POST ``payload`` as JSON; None on success (2xx), else the last error as text."""
    if urlsplit(url).scheme not in ("http", "https"):
        return "not an http(s) URL"
    body = json.dumps(payload).encode("utf-8")
    error = "not attempted"
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(retry_delay)
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "telemetry-kpis"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                response.read()
                return None
        except urllib.error.HTTPError as exc:
            error = f"HTTP {exc.code} {exc.reason}"
        except urllib.error.URLError as exc:
            error = str(exc.reason)
        except (TimeoutError, OSError) as exc:
            error = str(exc) or type(exc).__name__
    return error


def notify(
    url: str,
    evaluation: Evaluation,
    *,
    source: str = "kpis check",
    stream: IO[str] | None = None,
    timeout: float = TIMEOUT_SECONDS,
    retry_delay: float = RETRY_DELAY_SECONDS,
) -> bool:
    """Post the alarms (if any) to the webhook; True when posted, False otherwise.

    Never raises: a failure prints one warning line on ``stream`` (stderr).
    """
    stream = stream or sys.stderr
    if not evaluation.alarms:
        return False
    error = post_json(
        url, build_message(evaluation, source=source), timeout=timeout, retry_delay=retry_delay
    )
    if error is not None:
        print(
            f"{source}: warning: could not post the alert to {safe_destination(url)} "
            f"(after 2 attempts): {error}",
            file=stream,
        )
        return False
    print(
        f"{source}: posted {len(evaluation.alarms)} alarm(s) to {safe_destination(url)}",
        file=stream,
    )
    return True
