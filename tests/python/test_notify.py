"""Webhook alerts against a real HTTP server on 127.0.0.1 (http.server in a thread)."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import kpis
from test_check import (
    SMALL_DEFINITIONS,
    definitions_dir,
    make_kpi_values,
    set_value,
    write_marts,
)

from telemetry_kpis.evaluate import Evaluation, HealthResult, QualityResult
from telemetry_kpis.notify import build_message, notify, post_json, safe_destination


class Hook:
    """A webhook receiver: answers with the queued status codes (then 200), records bodies."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.statuses: list[int] = []
        self.delay = 0.0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                hook.bodies.append(
                    {"path": self.path, "type": self.headers["Content-Type"], **json.loads(body)}
                )
                if hook.delay:
                    time.sleep(hook.delay)
                status = hook.statuses.pop(0) if hook.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):  # keep pytest output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T000/B000/secret"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    yield server
    server.close()


def evaluation(alarm: bool = True) -> Evaluation:
    health = HealthResult(
        key="success",
        metric="pipeline_success_rate",
        grain="day",
        kind="rate",
        severity="alarm",
        runbook="https://bi.example.com/runbooks/success",
        visibility="internal",
        as_of=date(2026, 11, 20),
        value=0.2,
        status="alarm" if alarm else "ok",
        breaches=["20.0% below the minimum 50.0%"] if alarm else [],
    )
    quality = QualityResult(
        "spikes", "daily counts: no spike", success=not alarm, checked=5, failed=1
    )
    return Evaluation(
        as_of=date(2026, 11, 20),
        generated_at=datetime(2026, 11, 21, 6, 0),
        key_results=[],
        health=[health],
        quality=[quality],
        quality_ran=True,
    )


def test_message_is_slack_compatible():
    message = build_message(evaluation())
    assert message["text"].startswith("kpis check: 2 alarms as of 2026-11-20")
    assert "20.0% below the minimum 50.0%" in message["text"]
    types = [b["type"] for b in message["blocks"]]
    assert types == ["header", "section", "section", "context"]
    assert (
        "<https://bi.example.com/runbooks/success|runbook>" in message["blocks"][1]["text"]["text"]
    )
    assert "daily counts: no spike" in message["blocks"][2]["text"]["text"]
    json.dumps(message)  # serialisable


def test_posts_alarms(hook):
    stream = io.StringIO()
    assert notify(hook.url, evaluation(), stream=stream)
    assert len(hook.bodies) == 1
    body = hook.bodies[0]
    assert body["type"] == "application/json"
    assert body["path"] == "/services/T000/B000/secret"
    assert "blocks" in body and "text" in body
    assert "posted 2 alarm(s)" in stream.getvalue()
    assert "secret" not in stream.getvalue()  # webhook paths are credentials


def test_nothing_posted_without_alarms(hook):
    assert not notify(hook.url, evaluation(alarm=False), stream=io.StringIO())
    assert hook.bodies == []


def test_one_retry_then_success(hook):
    hook.statuses = [500]
    stream = io.StringIO()
    assert notify(hook.url, evaluation(), stream=stream, retry_delay=0.01)
    assert len(hook.bodies) == 2
    assert "warning" not in stream.getvalue()


def test_failure_is_one_warning_line(hook):
    hook.statuses = [500, 503, 200]
    stream = io.StringIO()
    assert not notify(hook.url, evaluation(), stream=stream, retry_delay=0.01)
    assert len(hook.bodies) == 2  # one retry, no more
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("kpis check: warning: could not post the alert to http://127.0.0.1:")
    assert "HTTP 503" in lines[0] and "secret" not in lines[0]


def test_timeout_is_a_warning(hook):
    hook.delay = 1.0
    stream = io.StringIO()
    started = time.monotonic()
    assert not notify(hook.url, evaluation(), stream=stream, timeout=0.2, retry_delay=0.01)
    assert time.monotonic() - started < 5
    assert "timed out" in stream.getvalue()


def test_unreachable_and_invalid_urls():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = post_json(f"http://127.0.0.1:{port}/hook", {"text": "x"}, retry_delay=0.01)
    assert error and "refused" in error.lower()
    assert post_json("ftp://example.com/x", {"text": "x"}) == "not an http(s) URL"
    assert safe_destination("https://user:pw@hooks.slack.com/services/T/B/X") == (
        "https://hooks.slack.com"
    )


def test_check_notifies_through_the_cli(hook, duckdb_env, tmp_path):
    frame = set_value(make_kpi_values(), "pipeline_success_rate", "day", date(2026, 11, 20), 0.2)
    write_marts(duckdb_env, frame)
    defs = definitions_dir(tmp_path, SMALL_DEFINITIONS)
    args = ("check", "--definitions", str(defs), "--as-of", "2026-11-20", "--no-quality")
    result = kpis(*args, "--notify", hook.url, env=duckdb_env)
    assert result.returncode == 1, result.stderr
    assert len(hook.bodies) == 1
    assert "success" in hook.bodies[0]["text"]
    # the environment variable works too
    env = {**duckdb_env, "KPIS_NOTIFY_URL": hook.url}
    assert kpis(*args, env=env).returncode == 1
    assert len(hook.bodies) == 2
    # a dead webhook: one warning line, same exit status, no traceback
    hook.close()
    dead = kpis(*args, env=env)
    assert dead.returncode == 1
    assert "Traceback" not in dead.stderr
    assert dead.stderr.count("warning: could not post the alert") == 1
