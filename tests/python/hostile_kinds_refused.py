"""Hostile kinds that are refused: rejected by `kpis load` (the line never becomes a raw row)
or quarantined by staging with their reason."""

from __future__ import annotations

import json
import uuid

from hostile_builder import Builder
from hostile_rows import (
    CONTEXTS_SCHEMA,
    UNSTRUCT_SCHEMA,
    Row,
    dumps,
    edit_context,
    edit_contexts,
    fresh_copy,
    shift,
)


def rejected_by_the_load(builder: Builder) -> None:
    def reject(name: str, reason: str, content: bytes | str, row: Row | None = None) -> None:
        line = builder.main.add(content)
        builder.kind(name, f"rejected:{reason}", row, line)

    row = fresh_copy(builder.started).row
    row["se_property"] = "MARKER"
    reject(
        "invalid_utf8",
        "invalid_utf8",
        dumps(row).encode().replace(b"MARKER", b"caf\xe9 \xff\xfe"),
        row,
    )
    row = fresh_copy(builder.started).row
    text = dumps(row)
    reject("invalid_json_line", "invalid_json", text[: len(text) // 2], row)
    reject(
        "not_an_object_array", "not_an_object", "[" + dumps(fresh_copy(builder.started).row) + "]"
    )
    reject("not_an_object_number", "not_an_object", "42")
    reject("not_an_object_null", "not_an_object", "null")
    row = fresh_copy(builder.started).row
    row["se_property"] = "MARKER"
    reject(
        "nul_character_raw",
        "nul_character",
        dumps(row).encode().replace(b"MARKER", b"a\x00b"),
        row,
    )
    row = fresh_copy(builder.started).row
    row["se_property"] = "a\x00b"  # json.dumps writes the \u0000 escape
    assert "\\u0000" in dumps(row)
    reject("nul_character_escape", "nul_character", dumps(row), row)
    row = fresh_copy(builder.started).row
    row["uploaded_at"] = "yesterday-ish"
    reject("uploaded_at_unparseable", "invalid_uploaded_at", dumps(row), row)
    row = fresh_copy(builder.started).row
    row["uploaded_at"] = "2999-01-01 00:00:00"
    reject("uploaded_at_after_the_load", "invalid_uploaded_at", dumps(row), row)


def missing_event_id(builder: Builder) -> None:
    for name, value in (
        ("event_id_null", None),
        ("event_id_empty", ""),
        ("event_id_whitespace", "  \t "),
    ):
        fresh = fresh_copy(builder.started)
        fresh.row["event_id"] = value
        builder.add(name, "quarantined:missing_event_id", fresh)


def invalid_json(builder: Builder) -> None:
    fate = "quarantined:invalid_json"
    fresh = fresh_copy(builder.started)
    fresh.row["contexts"] = fresh.row["contexts"][:-40]
    builder.add("contexts_not_json", fate, fresh)

    fresh = fresh_copy(builder.started)
    fresh.row["unstruct_event"] = '{"schema": "' + UNSTRUCT_SCHEMA + '", "data": {not json'
    builder.add("unstruct_not_json", fate, fresh)

    fresh = fresh_copy(builder.started)
    fresh.row["contexts"] = "[]"
    builder.add("contexts_an_array", fate, fresh)

    fresh = fresh_copy(builder.started)
    fresh.row["contexts"] = json.dumps({"schema": CONTEXTS_SCHEMA, "data": 5})
    builder.add("contexts_data_not_an_array", fate, fresh)

    fresh = fresh_copy(builder.started)
    fresh.row["unstruct_event"] = json.dumps([json.loads(fresh.row["unstruct_event"])])
    builder.add("unstruct_an_array", fate, fresh)

    fresh = fresh_copy(builder.started)
    fresh.row["unstruct_event"] = json.dumps(
        {"schema": UNSTRUCT_SCHEMA, "data": "iglu:com.meltano/cli_event/jsonschema/1-0-1"}
    )
    builder.add("unstruct_data_not_an_object", fate, fresh)


def invalid_timestamp(builder: Builder) -> None:
    fate = "quarantined:invalid_timestamp"
    for name, column, value in (
        ("derived_tstamp_null", "derived_tstamp", None),
        ("derived_tstamp_month_13", "derived_tstamp", "2026-13-45 99:00:00.000"),
        ("derived_tstamp_february_30", "derived_tstamp", "2026-02-30 10:00:00.000"),
        ("collector_tstamp_unparseable", "collector_tstamp", "half past ten"),
    ):
        fresh = fresh_copy(builder.started)
        fresh.row[column] = value
        builder.add(name, fate, fresh)


def implausible_timestamp(builder: Builder) -> None:
    fate = "quarantined:implausible_timestamp"
    fresh = fresh_copy(builder.started)
    fresh.row["derived_tstamp"] = "2999-01-01 00:00:00.000"
    builder.add("derived_tstamp_year_2999", fate, fresh)

    fresh = fresh_copy(builder.started)
    fresh.row["derived_tstamp"] = "1970-01-01 00:00:00.000"
    builder.add("derived_tstamp_1970", fate, fresh)

    fresh = fresh_copy(builder.started)
    collector = fresh.row["collector_tstamp"]
    fresh.row["derived_tstamp"] = shift(collector, hours=25)
    # uploaded after both, so that only the clock-ahead rule applies
    fresh.row["uploaded_at"] = shift(collector, hours=26)
    builder.add("derived_25h_after_collector", fate, fresh)

    fresh = fresh_copy(builder.started)
    fresh.row["collector_tstamp"] = "2999-01-01 00:00:00.000"
    fresh.row["derived_tstamp"] = "2999-01-01 00:00:00.000"
    builder.add("collector_and_derived_year_2999", fate, fresh)

    # the boundary: 23 hours ahead is within max_event_clock_ahead_hours (24)
    fresh = fresh_copy(builder.started)
    collector = fresh.row["collector_tstamp"]
    fresh.row["derived_tstamp"] = shift(collector, hours=23)
    fresh.row["uploaded_at"] = shift(collector, hours=24)
    builder.add("derived_23h_after_collector", "execution", fresh)


def unknown_event(builder: Builder) -> None:
    fate = "quarantined:unknown_event"
    fresh = fresh_copy(builder.started)
    fresh.row.update(event="page_view", unstruct_event=None, page_url="https://example.com/")
    builder.add("event_type_page_view", fate, fresh)

    fresh = fresh_copy(builder.started)
    fresh.row["unstruct_event"] = fresh.row["unstruct_event"].replace(
        "iglu:com.meltano/cli_event/", "iglu:com.acme/cli_event/"
    )
    assert "com.acme" in fresh.row["unstruct_event"]
    builder.add("unstruct_vendor_acme", fate, fresh)

    fresh = fresh_copy(builder.started)
    fresh.row["unstruct_event"] = json.dumps(
        {
            "schema": UNSTRUCT_SCHEMA,
            "data": {"schema": "iglu:com.meltano/foo_event/jsonschema/1-0-0", "data": {}},
        }
    )
    builder.add("unknown_meltano_event_name", fate, fresh)

    fresh = fresh_copy(builder.started)
    fresh.row.update(
        event="struct",
        unstruct_event=None,
        se_category="acme deploy",
        se_action="acme deploy now",
        se_label=str(uuid.uuid4()),
    )
    builder.add("struct_category_not_meltano", fate, fresh)


def missing_project_context(builder: Builder) -> None:
    fate = "quarantined:missing_project_context"

    def without_project(elements: list[Row]) -> list[Row]:
        return [e for e in elements if "/project_context/" not in e["schema"]]

    fresh = fresh_copy(builder.started)
    edit_contexts(fresh.row, without_project)
    builder.add("no_project_context", fate, fresh)

    fresh = fresh_copy(builder.started)
    edit_context(fresh.row, "project_context", lambda e: e["data"].update(project_uuid=None))
    builder.add("project_uuid_null", fate, fresh)

    fresh = fresh_copy(builder.started)
    edit_context(fresh.row, "project_context", lambda e: e["data"].pop("project_uuid"))
    builder.add("project_uuid_key_missing", fate, fresh)

    fresh = fresh_copy(builder.started)
    edit_context(fresh.row, "project_context", lambda e: e["data"].update(project_uuid=""))
    builder.add("project_uuid_empty", fate, fresh)

    fresh = fresh_copy(builder.started)
    edit_context(fresh.row, "project_context", lambda e: e.update(data=fresh.project_id))
    builder.add("project_context_data_a_string", fate, fresh)

    fresh = fresh_copy(builder.started)
    edit_context(fresh.row, "project_context", lambda e: e.update(data=[e["data"]["project_uuid"]]))
    builder.add("project_context_data_an_array", fate, fresh)

    fresh = fresh_copy(builder.started)
    edit_contexts(fresh.row, without_project)
    edit_context(
        fresh.row,
        "cli_context",
        lambda e: e["data"]["options"].update(
            log_config="iglu:com.meltano/project_context/jsonschema/1-0-0"
        ),
    )
    assert '"iglu:com.meltano/project_context/' in fresh.row["contexts"]
    builder.add("project_context_only_mentioned", fate, fresh)

    fresh = fresh_copy(builder.started)
    edit_context(
        fresh.row,
        "project_context",
        lambda e: e.update(schema=e["schema"].replace("com.meltano", "com.acme")),
    )
    builder.add("project_context_vendor_acme", fate, fresh)

    fresh = fresh_copy(builder.started)
    fresh.row.update(
        event="struct",
        contexts=None,
        unstruct_event=None,
        se_category="meltano elt",
        se_action="meltano elt tap-x target-y",
        se_label=None,
    )
    builder.add("struct_without_contexts_or_label", fate, fresh)
