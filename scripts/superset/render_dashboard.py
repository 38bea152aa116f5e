"""Render one Superset dashboard in headless Chromium and report what drew (run with the
Python of Superset's venv, which has selenium).

    render_dashboard.py BASE_URL SLUG SCREENSHOT.png PROFILE_DIR [--user U --password P]

Logs in through Superset's form (a session cookie), opens /superset/dashboard/<slug>/
?standalone=1, waits until every chart holder has drawn a <canvas> or shows an error
([role=alert]), saves a screenshot and prints one JSON line: charts, canvases, alerts.
Exit 0 when it rendered (the caller judges the counts), 2 on a set-up problem (one line).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time

HOLDER = '[data-test="dashboard-component-chart-holder"]'  # a chart's or a Markdown's box
CHART = '[data-test="chart-grid-component"]'


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("base_url")
    parser.add_argument("slug")
    parser.add_argument("screenshot")
    parser.add_argument("profile_dir")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--timeout", type=float, default=90)
    args = parser.parse_args()
    driver_path = shutil.which("chromedriver")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not driver_path or not browser:
        print("render: needs Debian's chromium and chromium-driver", file=sys.stderr)
        return 2
    import requests
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    session = requests.Session()
    response = session.post(
        f"{args.base_url}/login/",
        data={"username": args.user, "password": args.password},
        allow_redirects=False,
        timeout=30,
    )
    cookie = session.cookies.get("session")
    if response.status_code >= 400 or not cookie:
        print(f"render: login failed (HTTP {response.status_code})", file=sys.stderr)
        return 2
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--window-size=1400,1100",
        f"--user-data-dir={args.profile_dir}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.get(f"{args.base_url}/health")
        driver.add_cookie({"name": "session", "value": cookie, "path": "/"})
        driver.get(f"{args.base_url}/superset/dashboard/{args.slug}/?standalone=1")
        deadline = time.monotonic() + args.timeout
        state: dict = {}
        while time.monotonic() < deadline:
            state = driver.execute_script(
                """
                const all = [...document.querySelectorAll(arguments[0])];
                const holders = all.filter(h => h.querySelector(arguments[1]));
                return {
                  charts: holders.length,
                  canvases: holders.filter(h => h.querySelector('canvas')).length,
                  alerts: [...document.querySelectorAll('[role=alert]')]
                    .map(a => a.innerText.trim()).filter(t => t),
                  markdown: all.length - holders.length,
                };
                """,
                HOLDER,
                CHART,
            )
            drawn = state["canvases"] + len(state["alerts"])
            if state["charts"] and drawn >= state["charts"]:
                break
            time.sleep(0.5)
        time.sleep(1.0)  # let the last animation finish before the picture
        driver.save_screenshot(args.screenshot)
        state["title"] = driver.title
        print(json.dumps(state))
    finally:
        driver.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
