"""The Superset import bundle: databases/, datasets/, charts/, dashboards/ as YAML, zipped.

Everything comes from ``kpi_definitions/`` (OKRs, key results, health metrics), the metric
registry (labels, kinds) and the marts' model YAML (dataset columns and descriptions). Objects
are linked by uuid; every uuid is a uuid5 of a stable name, so importing a newer bundle updates
the same database, datasets, charts and dashboards instead of adding copies. The zip is
byte-identical for the same inputs: sorted entries, fixed timestamps, YAML with sorted keys.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from telemetry_kpis.dashboards import links
from telemetry_kpis.dashboards.charts import VERSION
from telemetry_kpis.dashboards.pages import Page, health_page, key_result_page, okr_page
from telemetry_kpis.definitions import Definitions
from telemetry_kpis.settings import Settings

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/meltano/telemetry-kpis")
TOP_FOLDER = "telemetry_kpis_dashboards"
BUNDLE_NAME = f"{TOP_FOLDER}.zip"
DATABASE_NAME = "telemetry_kpis"
DATABASE_FILE = f"databases/{DATABASE_NAME}.yaml"
#: Superset's placeholder for a password it does not export; the importer asks for the real one.
PASSWORD_MASK = "X" * 10
SCHEMA = "marts"
#: The marts a reader charts or drills into, with the time column Superset filters on.
DATASETS = {
    "kpi_values": "period_start",
    "kpi_values_by_segment": "period_start",
    "kpi_drivers": "period_start",
    "fct_pipeline_runs": "started_at",
    "fct_project_months": "month_start_date",
    "dim_projects": "first_event_at",
}
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
#: The double-precision measures of the KPI marts (every other name is typed by its pattern).
MEASURES = frozenset(
    {
        "value",
        "previous_value",
        "year_ago_value",
        "change",
        "change_pct",
        "yoy_change_pct",
        "contribution",
        "share_of_change",
        "total_change",
    }
)


def stable_uuid(kind: str, name: str) -> str:
    """The uuid of a bundle object: the same kind and name always give the same uuid."""
    return str(uuid.uuid5(NAMESPACE, f"{kind}/{name}"))


@dataclass(frozen=True)
class Options:
    handbook_url: str | None = None
    superset_url: str | None = None


# --- database ---------------------------------------------------------------------------------
def database_uri(settings: Settings) -> tuple[str, dict[str, Any]]:
    """(SQLAlchemy URI, connect_args) Superset reads the marts with; never a password.

    DuckDB: the published copy of the marts (``Settings.bi_duckdb_path``), read-only.
    PostgreSQL: the configured server; a configured password becomes Superset's mask, which
    makes the importer ask for it (UI) or take it from ``passwords`` (API).
    """
    if settings.target == "duckdb":
        return f"duckdb:///{settings.bi_duckdb_path}", {"read_only": True}
    from sqlalchemy.engine import URL

    url = URL.create(
        "postgresql",
        username=settings.pg_user,
        password=PASSWORD_MASK if settings.pg_password else None,
        host=settings.pg_host,
        port=settings.pg_port,
        database=settings.pg_database,
    )
    return url.render_as_string(hide_password=False), {}


def database_yaml(settings: Settings) -> dict[str, Any]:
    uri, connect_args = database_uri(settings)
    return {
        "database_name": DATABASE_NAME,
        "sqlalchemy_uri": uri,
        "cache_timeout": None,
        "expose_in_sqllab": True,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_file_upload": False,
        "extra": {
            "engine_params": {"connect_args": connect_args} if connect_args else {},
            "metadata_params": {},
            "metadata_cache_timeout": {},
            "schemas_allowed_for_file_upload": [],
        },
        "uuid": stable_uuid("database", DATABASE_NAME),
        "version": VERSION,
    }


# --- datasets ---------------------------------------------------------------------------------
def model_columns(project: Path, model: str) -> tuple[str, list[tuple[str, str]]]:
    """(description, [(column, description)]) of a mart from its model YAML."""
    matches = sorted(project.glob(f"models/marts/*/{model}.yml"))
    if not matches:
        raise ValueError(f"no model YAML for {model} under models/marts/")
    document = yaml.safe_load(matches[0].read_text(encoding="utf-8"))
    entry = next(m for m in document["models"] if m["name"] == model)
    columns = [
        (c["name"], " ".join(str(c.get("description") or "").split()))
        for c in entry.get("columns", [])
    ]
    return " ".join(str(entry.get("description") or "").split()), columns


def column_type(name: str) -> str:
    """A column's type from the project's naming rules (is_/has_, _at, _date, counts)."""
    if name.startswith(("is_", "has_", "was_")):
        return "BOOLEAN"
    if name.endswith("_at"):
        return "TIMESTAMP"
    if name.endswith("_date") or name in ("period_start", "period_end"):
        return "DATE"
    if name.endswith(("_count", "_seconds")) or name == "exit_code":
        return "BIGINT"
    if name in MEASURES:
        return "DOUBLE"
    return "VARCHAR"


def dataset_yaml(project: Path, table: str, time_column: str, database_uuid: str) -> dict:
    description, columns = model_columns(project, table)
    return {
        "table_name": table,
        "main_dttm_col": time_column,
        "description": description,
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "catalog": None,
        "schema": SCHEMA,
        "sql": None,
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "normalize_columns": False,
        "always_filter_main_dttm": False,
        "uuid": stable_uuid("dataset", f"{SCHEMA}.{table}"),
        "metrics": [
            {
                "metric_name": "count",
                "verbose_name": "COUNT(*)",
                "metric_type": "count",
                "expression": "COUNT(*)",
                "description": None,
                "d3format": None,
                "extra": {},
                "warning_text": None,
            }
        ],
        "columns": [
            {
                "column_name": name,
                "verbose_name": None,
                "is_dttm": column_type(name) in ("DATE", "TIMESTAMP"),
                "is_active": True,
                "type": column_type(name),
                "advanced_data_type": None,
                "groupby": True,
                "filterable": True,
                "expression": None,
                "description": text or None,
                "python_date_format": None,
                "extra": {},
            }
            for name, text in columns
        ],
        "version": VERSION,
        "database_uuid": database_uuid,
    }


# --- the bundle ------------------------------------------------------------------------------
def _dashboard_yaml(page: Page) -> dict[str, Any]:
    return {
        "dashboard_title": page.title,
        "description": None,
        "css": "",
        "slug": page.slug,
        "certified_by": None,
        "certification_details": None,
        "published": True,
        "uuid": stable_uuid("dashboard", page.slug),
        "position": page.position,
        "metadata": page.metadata,
        "version": VERSION,
    }


def bundle_files(
    definitions: Definitions, settings: Settings, project: Path, options: Options
) -> dict[str, dict[str, Any]]:
    """Bundle path (inside the top folder) -> YAML document, for every object."""
    database = database_yaml(settings)
    files: dict[str, dict[str, Any]] = {
        "metadata.yaml": {
            "version": VERSION,
            "type": "Dashboard",
            "timestamp": "1970-01-01T00:00:00+00:00",
        },
        DATABASE_FILE: database,
    }
    dataset_uuids = {}
    for table, time_column in DATASETS.items():
        document = dataset_yaml(project, table, time_column, database["uuid"])
        dataset_uuids[table] = document["uuid"]
        files[f"datasets/{DATABASE_NAME}/{table}.yaml"] = document
    pages = [key_result_page(definitions, kr, options) for kr in definitions.key_results]
    pages += [okr_page(definitions, okr, options) for okr in definitions.okrs]
    pages.append(health_page(definitions, options))
    for page in pages:
        for chart_name, chart in page.charts.items():
            document = dict(chart.document)
            document.update(
                {
                    "description": chart.description,
                    "certified_by": None,
                    "certification_details": None,
                    "cache_timeout": None,
                    "uuid": stable_uuid("chart", chart_name),
                    "version": VERSION,
                    "dataset_uuid": dataset_uuids[chart.table],
                }
            )
            files[f"charts/{chart_name}.yaml"] = document
        files[f"dashboards/{page.slug}.yaml"] = _dashboard_yaml(page)
    return files


def _dump(document: dict[str, Any]) -> bytes:
    text = yaml.safe_dump(document, sort_keys=True, allow_unicode=True, width=100)
    return text.encode("utf-8")


def write_bundle(files: dict[str, dict[str, Any]], output_dir: Path) -> Path:
    """Write the zip (sorted entries, fixed timestamps and modes) into ``output_dir``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{TOP_FOLDER}/{name}", date_time=FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, _dump(files[name]))
    output_dir.mkdir(parents=True, exist_ok=True)
    target = output_dir / BUNDLE_NAME
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_bytes(buffer.getvalue())
    temporary.replace(target)
    return target


def page_link(slug: str, options: Options) -> str:
    return links.page_url(slug, options.superset_url)
