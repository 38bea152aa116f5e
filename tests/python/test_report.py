"""`kpis report` end to end: HTML + PNG charts, rendered in headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import REPO, kpis
from test_check import SMALL_DEFINITIONS, definitions_dir, make_kpi_values, write_marts

SHIPPED = REPO / "kpi_definitions"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# On a developer machine without Chromium the rendering tests are skipped; in CI (.ci/run
# installs Debian's chromium) a missing browser is a failure, never a silent skip.
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="headless Chromium not installed (apt-get install chromium)",
)


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )


def render_checks(tmp_path: Path, page: Path, charts: int) -> None:
    """Chromium loads the page offline: every chart is an <img> with inline PNG data, and a
    screenshot of the page is far from blank."""
    dom = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    images = re.findall(
        r'<img class="chart"[^>]*src="data:image/png;base64,[A-Za-z0-9+/=]{500,}"', dom.stdout
    )
    assert len(images) == charts
    assert "<h1>KPIs and OKRs" in dom.stdout

    shot = tmp_path / "screenshot.png"
    result = chromium(tmp_path, "--window-size=1200,1600", f"--screenshot={shot}", page.as_uri())
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    assert shot.stat().st_size > 30_000
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] >= 1500 and pixels.shape[1] >= 1100
    assert pixels[..., :3].std() > 0.05  # not a blank page
    colours = {tuple(p) for p in (pixels[::20, ::20, :3] * 255).astype(int).reshape(-1, 3)}
    assert len(colours) > 50  # charts, badges and text, not a uniform page


@needs_chromium
@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_report_with_shipped_definitions(engine, request, tmp_path):
    env = request.getfixturevalue(f"{engine}_env")
    write_marts(env, make_kpi_values())
    out = tmp_path / "report"
    result = kpis("report", "--as-of", "2026-11-20", "--output-dir", str(out), env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    # one chart per shipped key result and health metric, and the stickiness chart (no
    # "what moved" chart: these marts have no drivers)
    shipped = [yaml.safe_load(f.read_text()) for f in sorted(SHIPPED.glob("*.yml"))]
    key_results = sum(len(doc.get("key_results") or []) for doc in shipped)
    health_metrics = sum(len(doc.get("health_metrics") or []) for doc in shipped)
    charts = key_results + health_metrics + 1
    assert key_results >= 9 and health_metrics >= 4
    assert f"wrote {out / 'index.html'} and {charts} chart(s)" in result.stdout

    page = out / "index.html"
    html = page.read_text()
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert len(pngs) == charts
    assert "kr-grow_map.png" in pngs and "health-data_freshness.png" in pngs
    assert "stickiness.png" in pngs
    assert all((out / p).read_bytes().startswith(b"\x89PNG") for p in pngs)
    # one section per OKR and a card per KR, with status badges
    for label in (
        "OKR: Be the DataOps OS",
        "OKR: Improve new user experience",
        "OKR: Improve ease of deployment",
        "OKR: Managed service beta",
    ):
        assert f"<h2>{label}</h2>" in html
    assert html.count('<div class="card" id="kr-') == key_results
    assert "Data quality" in html and "(example)" in html
    # offline: no scripts, no remote resources
    assert "<script" not in html
    assert not re.search(r'(src|href)="(https?:)?//[^"]*\.(js|css)', html)
    assert not re.search(r'<img[^>]+src="https?:', html)
    render_checks(tmp_path, page, charts=charts)


@needs_chromium
def test_public_report_hides_internal_values(duckdb_env, tmp_path):
    write_marts(duckdb_env, make_kpi_values())
    defs = definitions_dir(tmp_path, SMALL_DEFINITIONS)
    out = tmp_path / "public"
    result = kpis(
        "report",
        "--definitions",
        str(defs),
        "--as-of",
        "2026-11-20",
        "--public",
        "--no-quality",
        "--output-dir",
        str(out),
        env=duckdb_env,
    )
    assert result.returncode == 0, result.stderr
    html = (out / "index.html").read_text()
    assert "public view" in html
    assert "OKR: Secret" not in html and "Hidden" not in html  # internal OKR left out
    assert "Increase MAP" in html and "244" in html  # public KR keeps its values
    assert "More pipeline runs" in html and "8,000" not in html  # internal KR: redacted
    assert "Data quality" not in html  # --no-quality
    # the two KR charts; internal health metrics get no chart
    assert sorted(p.name for p in out.glob("*.png")) == ["kr-map.png", "kr-runs.png"]
    render_checks(tmp_path, out / "index.html", charts=2)


def test_report_output_dir_error(duckdb_env, tmp_path):
    write_marts(duckdb_env, make_kpi_values())
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = kpis(
        "report",
        "--as-of",
        "2026-11-20",
        "--no-quality",
        "--output-dir",
        str(blocker / "x"),
        env=duckdb_env,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "cannot create" in result.stderr


HOSTILE_GOAL = '<script>alert("goal")</script>'
HOSTILE_LABEL = "OKR: <img src=x onerror=alert(1)>"
HOSTILE_NOTE = "</p><script>alert('note')</script>"


def hostile_page(tmp_path: Path) -> str:
    """The report of definitions whose texts look like markup, with a note and a quality
    detail to match."""
    from datetime import date

    from telemetry_kpis.definitions import load_definitions
    from telemetry_kpis.evaluate import evaluate, prepare_kpi_values
    from telemetry_kpis.report.html import render_html
    from telemetry_kpis.results import QualityResult

    text = (
        SMALL_DEFINITIONS.replace('label: "OKR: Grow"', f'label: "{HOSTILE_LABEL}"')
        .replace("goal: Increase MAP", f"goal: '{HOSTILE_GOAL}', owner: '<b>ops</b> & co'")
        .replace('"https://bi.example.com/map"', '"https://bi.example.com/map?a=1&b=\\"x"')
    )
    definitions = load_definitions(definitions_dir(tmp_path, text))
    evaluation = evaluate(definitions, prepare_kpi_values(make_kpi_values()), date(2026, 11, 20))
    evaluation.key_results[0].note = HOSTILE_NOTE
    evaluation.quality = [QualityResult("q", "<i>check</i>", False, 1, 1, "<b>row</b>")]
    evaluation.quality_ran = True
    return render_html(evaluation, definitions, {})


def test_report_escapes_definition_text(tmp_path):
    html = hostile_page(tmp_path)
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "<i>" not in html
    assert "&lt;script&gt;alert(&#34;goal&#34;)&lt;/script&gt;" in html
    assert "<h2>OKR: &lt;img src=x onerror=alert(1)&gt;</h2>" in html
    assert "&lt;/p&gt;&lt;script&gt;alert(&#39;note&#39;)&lt;/script&gt;" in html
    assert "owner &lt;b&gt;ops&lt;/b&gt; &amp; co" in html
    assert 'href="https://bi.example.com/map?a=1&amp;b=&#34;x"' in html
    assert "&lt;b&gt;row&lt;/b&gt;" in html


@needs_chromium
def test_hostile_text_stays_text_in_chromium(tmp_path):
    page = tmp_path / "index.html"
    page.write_text(hostile_page(tmp_path))
    dom = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<script" not in dom.stdout and "<img" not in dom.stdout
    assert '&lt;script&gt;alert("goal")&lt;/script&gt;' in dom.stdout
