"""A real Apache Superset for tests: a copy of the metadata `scripts/superset/setup.sh` made,
the bundle imported, gunicorn on 127.0.0.1 at a free port, and Superset's REST API.

Superset lives in its own venv (``.superset/venv``; ``KPIS_SUPERSET_VENV`` moves it). Each
server gets its own home (a copy of ``.superset/home``'s SQLite metadata), so tests never
change the developer's Superset and two engines' datasets never share one metadata database.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

VENV = Path(os.environ.get("KPIS_SUPERSET_VENV") or REPO / ".superset" / "venv")
HOME = Path(os.environ.get("KPIS_SUPERSET_HOME") or REPO / ".superset" / "home")
CONFIG = REPO / "scripts" / "superset" / "superset_config.py"
RENDER = REPO / "scripts" / "superset" / "render_dashboard.py"
INSTALLED = (VENV / "bin" / "superset").is_file() and (HOME / ".initialised").is_file()
REQUIRED = bool(os.environ.get("KPIS_REQUIRE_SUPERSET"))

#: Skipped only on a machine without Superset and without KPIS_REQUIRE_SUPERSET (CI sets it).
needs_superset = pytest.mark.skipif(
    not INSTALLED and not REQUIRED,
    reason="Superset is not installed: run scripts/superset/setup.sh (make superset); "
    "KPIS_REQUIRE_SUPERSET=1 turns this skip into a failure",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _one_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


@dataclass
class Superset:
    """A running Superset: its address, home and an authenticated API session."""

    home: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen | None = None
    session: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(VENV / "bin" / "superset"), *args],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def import_cli(self, bundle: Path) -> None:
        """``superset import-dashboards -p bundle.zip -u admin``."""
        result = self.cli("import-dashboards", "-p", str(bundle), "-u", "admin")
        if result.returncode != 0:
            pytest.fail(f"superset import-dashboards failed: {_one_line(result.stderr)}")

    def start(self, timeout: float = 180) -> None:
        if not (VENV / "bin" / "gunicorn").is_file():
            pytest.fail(f"Superset is not installed in {VENV}: run scripts/superset/setup.sh")
        log = (self.home / "gunicorn.log").open("w")
        self.process = subprocess.Popen(
            [
                str(VENV / "bin" / "gunicorn"),
                "--workers",
                "1",
                "--threads",
                "4",
                "--timeout",
                "300",
                "--bind",
                f"127.0.0.1:{self.port}",
                "superset.app:create_app()",
            ],  # fmt: skip
            env=self.env,
            cwd=self.home,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                text = (self.home / "gunicorn.log").read_text(errors="replace")
                pytest.fail(f"Superset did not start on port {self.port}: {_one_line(text)}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/health", timeout=5).ok:
                    break
            time.sleep(1)
        else:
            pytest.fail(f"Superset did not answer on port {self.port} within {timeout:.0f}s")
        self.session = requests.Session()
        response = self.session.post(
            f"{self.url}/api/v1/security/login",
            json={"username": "admin", "password": "admin", "provider": "db", "refresh": False},
            timeout=60,
        )
        response.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)

    # --- API ----------------------------------------------------------------------------------
    def get(self, path: str) -> Any:
        response = self.session.get(f"{self.url}{path}", timeout=300)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
        return response.json()

    def import_api(self, bundle: Path, passwords: dict[str, str]) -> None:
        """``POST /api/v1/dashboard/import/`` with the database passwords the bundle lacks."""
        import json

        with bundle.open("rb") as handle:
            response = self.session.post(
                f"{self.url}/api/v1/dashboard/import/",
                files={"formData": (bundle.name, handle, "application/zip")},
                data={"overwrite": "true", "passwords": json.dumps(passwords)},
                timeout=300,
            )
        assert response.status_code == 200, f"import: {response.status_code} {response.text}"

    def dashboard_charts(self, slug: str) -> list[dict[str, Any]]:
        return list(self.get(f"/api/v1/dashboard/{slug}/charts")["result"])

    def chart_data(self, chart_id: int) -> dict[str, Any]:
        result = self.get(f"/api/v1/chart/{chart_id}/data/")["result"][0]
        assert result["status"] == "success", result
        return dict(result)

    def render(self, slug: str, screenshot: Path) -> dict[str, Any]:
        """Open the dashboard in headless Chromium (render_dashboard.py, Superset's venv)."""
        import json

        result = subprocess.run(
            [
                str(VENV / "bin" / "python"),
                str(RENDER),
                self.url,
                slug,
                str(screenshot),
                str(self.home / "chromium-profile"),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            pytest.fail(f"rendering {slug} failed: {_one_line(result.stderr)}")
        return dict(json.loads(result.stdout.strip().splitlines()[-1]))


@contextlib.contextmanager
def superset_home(folder: Path) -> Iterator[Superset]:
    """A stopped Superset with its own home: a copy of the metadata setup.sh initialised."""
    if not INSTALLED:
        pytest.fail(
            f"Superset is not set up ({VENV}, {HOME}): run scripts/superset/setup.sh "
            "(KPIS_REQUIRE_SUPERSET is set, so this is not skipped)"
        )
    home = folder / "superset_home"
    home.mkdir(parents=True)
    for name in ("superset.db", "secret_key"):
        shutil.copy2(HOME / name, home / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KPIS_", "DBT_"))}
    env.update(
        {
            "SUPERSET_HOME": str(home),
            "SUPERSET_CONFIG_PATH": str(CONFIG),
            "SUPERSET_SECRET_KEY": (home / "secret_key").read_text().strip(),
            "DO_NOT_TRACK": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("PYTHONPATH", None)
    superset = Superset(home=home, port=free_port(), env=env)
    try:
        yield superset
    finally:
        superset.stop()
