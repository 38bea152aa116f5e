"""Where the generated Superset pages live: slugs, page addresses, handbook links.

A key result's ``dashboard`` link is its generated page when ``KPIS_SUPERSET_URL`` names the
Superset the bundle was imported into, and the definition's ``dashboard:`` otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: The Superset the bundle is imported into, e.g. https://superset.example.com (no trailing /).
SUPERSET_URL_ENV = "KPIS_SUPERSET_URL"
#: The public address of docs/handbook.md (its HTML page), e.g. https://example.com/kpis.html.
HANDBOOK_URL_ENV = "KPIS_HANDBOOK_URL"
HANDBOOK_FILE = "docs/handbook.md"
SLUG_PREFIX = "kpis"


def _slug_part(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")


def kr_slug(kr_key: str) -> str:
    """The dashboard slug of a key result's page, e.g. ``kpis-kr-grow-map``."""
    return f"{SLUG_PREFIX}-kr-{_slug_part(kr_key)}"


def okr_slug(okr_name: str) -> str:
    """The dashboard slug of an OKR's page, e.g. ``kpis-okr-dataops-os``."""
    return f"{SLUG_PREFIX}-okr-{_slug_part(okr_name)}"


HEALTH_SLUG = f"{SLUG_PREFIX}-health"


def superset_url(environ: Mapping[str, str] | None = None) -> str | None:
    """The configured Superset base address without a trailing slash, or None."""
    env = os.environ if environ is None else environ
    value = env.get(SUPERSET_URL_ENV, "").strip().rstrip("/")
    return value or None


def page_path(slug: str) -> str:
    """The path of a dashboard inside Superset (links between the generated pages use it)."""
    return f"/superset/dashboard/{slug}/"


def page_url(slug: str, base: str | None) -> str:
    """A page's address: absolute under ``base``, else the path (Superset resolves it)."""
    return f"{base}{page_path(slug)}" if base else page_path(slug)


def dashboard_url(
    kr_key: str, fallback: str | None = None, environ: Mapping[str, str] | None = None
) -> str | None:
    """A key result's dashboard link: its generated page under ``KPIS_SUPERSET_URL`` when that
    is set, else ``fallback`` (callers pass the definition's ``dashboard:``).

    ``kpis check`` (every format) and ``kpis report`` show this link for each key result.
    """
    base = superset_url(environ)
    return page_url(kr_slug(kr_key), base) if base else fallback


def handbook_link(base: str | None, metric_name: str | None = None) -> str | None:
    """The handbook page (``#<metric_name>`` is the metric's section), or None without a URL."""
    if not base:
        return None
    return f"{base}#{metric_name}" if metric_name else base
