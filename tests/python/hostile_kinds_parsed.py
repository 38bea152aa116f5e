"""Hostile kinds that parse: odd values and odd text inside usable events, duplicates, legacy
struct events, the opt-out notice, and the TSV rows (one of which is rejected)."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

from hostile_builder import Builder
from hostile_rows import (
    Row,
    edit_context,
    edit_contexts,
    edit_event_data,
    fresh_copy,
    shift,
    strings_changed,
    tsv_line,
)

#: the raw IP addresses of the two IP kinds: they must not appear downstream of the source
IPV4 = "198.51.100.73"
IPV6 = "2001:db8::1"

SQL_SINGLE = "'; drop table raw.snowplow_events; --"
SQL_DOUBLE = '" or 1=1 --'

#: Atomic columns needed to parse an event (left alone by the "SQL text in every text field"
#: kind), and the Snowplow atomic columns that are numbers or booleans, not text.
PARSING_COLUMNS = frozenset(
    {
        "event", "event_id", "contexts", "unstruct_event", "derived_contexts", "user_ipaddress",
        "collector_tstamp", "derived_tstamp", "dvce_created_tstamp", "dvce_sent_tstamp",
        "etl_tstamp", "true_tstamp", "refr_dvce_tstamp", "load_tstamp", "uploaded_at",
        "event_vendor", "event_name", "event_format", "event_version",
    }
)  # fmt: skip
NUMERIC_COLUMNS = frozenset(
    {
        "txn_id", "domain_sessionidx", "geo_latitude", "geo_longitude", "page_urlport",
        "refr_urlport", "se_value", "tr_total", "tr_tax", "tr_shipping", "ti_price",
        "ti_quantity", "pp_xoffset_min", "pp_xoffset_max", "pp_yoffset_min", "pp_yoffset_max",
        "br_features_pdf", "br_features_flash", "br_features_java", "br_features_director",
        "br_features_quicktime", "br_features_realplayer", "br_features_windowsmedia",
        "br_features_gears", "br_features_silverlight", "br_cookies", "br_colordepth",
        "br_viewwidth", "br_viewheight", "dvce_ismobile", "dvce_screenwidth",
        "dvce_screenheight", "doc_width", "doc_height", "tr_total_base", "tr_tax_base",
        "tr_shipping_base", "ti_price_base",
    }
)  # fmt: skip


def _updating(**values: Any) -> Callable[[Row], None]:
    """An edit that sets ``values`` in the object it is given."""

    def update(target: Row) -> None:
        target.update(values)

    return update


def _updating_data(**values: Any) -> Callable[[Row], None]:
    """An edit that sets ``values`` in the ``data`` of the context element it is given."""

    def update(element: Row) -> None:
        element["data"].update(values)

    return update


def odd_values(builder: Builder) -> None:
    """Odd values inside usable events: each still makes its execution."""
    _odd_context_values(builder)
    _odd_exit_values(builder)
    _unseen_versions_and_odd_contexts(builder)


def _odd_context_values(builder: Builder) -> None:
    def plugins(value: Any) -> Callable[[Row], None]:
        return lambda e: e["data"].update(plugins=value)

    for name, value in (
        ("plugins_scalars", ["a", 1, None]),
        ("plugins_an_object", {"name_hash": "a", "command": None}),
        ("plugins_a_string", "tap-x"),
    ):
        fresh = fresh_copy(builder.inflight)
        edit_context(fresh.row, "plugins_context", plugins(value))
        builder.add(name, "execution", fresh)

    fresh = fresh_copy(builder.started)
    edit_context(
        fresh.row, "project_context", lambda e: e["data"].update(project_uuid_source="banana")
    )
    builder.add(
        "project_uuid_source_unknown",
        "execution",
        fresh,
        execution_expect={"project_uuid_source": None},
    )

    for name, version in (
        ("meltano_version_huge", "99999999999.0.0"),
        ("meltano_version_text", "not-a-version"),
    ):
        fresh = fresh_copy(builder.started)
        edit_context(fresh.row, "environment_context", _updating_data(meltano_version=version))
        builder.add(name, "execution", fresh, project_expect={"first_meltano_major_version": None})


def _odd_exit_values(builder: Builder) -> None:
    for name, code in (
        ("exit_code_text", "abc"),
        ("exit_code_fraction", 1.5),
        ("exit_code_huge", 99999999999),
    ):
        fresh = fresh_copy(builder.exit_event)
        edit_event_data(fresh.row, _updating(exit_code=code))
        builder.add(
            name,
            "execution",
            fresh,
            execution_expect={"exit_code": None, "is_success": False},
        )

    for name, value in (
        ("exit_timestamp_february_30", "2026-02-30T10:00:00"),
        ("exit_timestamp_offset_99_99", "2026-07-01T14:05:01.325204+99:99"),
    ):
        fresh = fresh_copy(builder.exit_event)
        edit_event_data(fresh.row, _updating(exit_timestamp=value))
        builder.add(name, "execution", fresh, execution_expect={"exit_code": 0})

    fresh = fresh_copy(builder.started)

    def bad_process_times(element: Row) -> None:
        for number, process in enumerate(element["data"]["process_hierarchy"]):
            process["process_creation_timestamp"] = (
                "2026-02-30T10:00:00" if number % 2 else "2026-07-01T14:04:59+99:99"
            )

    edit_context(fresh.row, "environment_context", bad_process_times)
    builder.add("process_creation_timestamp_invalid", "execution", fresh)


def _unseen_versions_and_odd_contexts(builder: Builder) -> None:
    fresh = fresh_copy(builder.exit_event)
    fresh.row["unstruct_event"] = fresh.row["unstruct_event"].replace(
        "exit_event/jsonschema/1-0-1", "exit_event/jsonschema/1-9-0"
    )
    assert "exit_event/jsonschema/1-9-0" in fresh.row["unstruct_event"]
    builder.add("exit_event_version_1_9_0", "execution", fresh, execution_expect={"exit_code": 0})

    fresh = fresh_copy(builder.started)
    edit_context(
        fresh.row,
        "project_context",
        lambda e: e.update(schema="iglu:com.meltano/project_context/jsonschema/1-9-0"),
    )
    builder.add("project_context_version_1_9_0", "execution", fresh)

    fresh = fresh_copy(builder.started)
    edit_contexts(
        fresh.row,
        lambda elements: [
            {"schema": "iglu:com.acme/foo/jsonschema/1-0-0", "data": {"foo": "bar"}},
            *elements,
        ],
    )
    builder.add("context_vendor_acme", "execution", fresh)

    fresh = fresh_copy(builder.started)
    edit_contexts(fresh.row, lambda elements: [*elements, {"data": {"foo": "bar"}}])
    builder.add("context_without_schema", "execution", fresh)

    fresh = fresh_copy(builder.started)
    edit_context(
        fresh.row, "environment_context", lambda e: e["data"].update(is_ci_environment="yes")
    )
    builder.add("is_ci_environment_text", "execution", fresh)

    fresh = fresh_copy(builder.started)
    edit_context(
        fresh.row,
        "cli_context",
        lambda e: e["data"]["options"].update(log_config="x" * (2 * 1024 * 1024)),
    )
    assert len(fresh.row["contexts"]) > 2 * 1024 * 1024
    builder.add("huge_payload", "execution", fresh)


def odd_text(builder: Builder) -> None:
    fresh = fresh_copy(builder.started)

    def control(elements: list[Row]) -> None:
        for element in elements:
            if "/cli_context/" in element["schema"]:
                element["data"] = strings_changed(element["data"], lambda s: s + "\u0001\u001f\n\t")

    edit_contexts(fresh.row, control)
    assert "\\u0001" in fresh.row["contexts"] and "\\u001f" in fresh.row["contexts"]
    builder.add("control_characters_in_cli_context", "execution", fresh)

    fresh = fresh_copy(builder.started)
    for column in builder.atomic_columns:
        if column not in PARSING_COLUMNS and column not in NUMERIC_COLUMNS:
            fresh.row[column] = f"{SQL_SINGLE} {SQL_DOUBLE}"
    builder.add("sql_text_in_every_text_field", "execution", fresh)

    for name, event_id in (
        ("sql_event_id_single_quote", SQL_SINGLE),
        ("sql_event_id_double_quote", SQL_DOUBLE),
    ):
        fresh = fresh_copy(builder.started)
        fresh.row["event_id"] = event_id
        builder.add(name, "execution", fresh)

    for name, address in (("ip_address_v4", IPV4), ("ip_address_v6", IPV6)):
        fresh = fresh_copy(builder.started)
        fresh.row["user_ipaddress"] = address
        builder.add(name, "execution", fresh)

    builder.add("crlf_line", "execution", fresh_copy(builder.started), crlf=True)


def duplicates(builder: Builder) -> None:
    # an exact copy later in the same file (same uploaded_at): either copy may be kept
    fresh = fresh_copy(builder.exit_event)
    builder.add("exact_copy_same_file_original", "execution", fresh, either_copy=True)
    line = builder.main.add(fresh.row)
    builder.kind("exact_copy_same_file", "duplicate", fresh.row, line, either_copy=True)

    # an exact copy in the second file
    fresh = fresh_copy(builder.exit_event)
    builder.add("exact_copy_second_file_original", "execution", fresh, either_copy=True)
    line = builder.second.add(fresh.row)
    builder.kind(
        "exact_copy_second_file", "duplicate", fresh.row, line, file=builder.second,
        either_copy=True,
    )  # fmt: skip

    # a conflicting copy uploaded LATER: dropped, the original kept
    fresh = fresh_copy(builder.started)
    builder.add("conflicting_later_copy_original", "execution", fresh)
    later = copy.deepcopy(fresh.row)
    later["se_property"] = "conflicting copy"
    later["uploaded_at"] = shift(fresh.row["uploaded_at"], hours=1)
    line = builder.main.add(later)
    builder.kind("conflicting_later_copy", "duplicate", later, line)

    # a conflicting copy uploaded EARLIER (written after the original): it is kept, the
    # original becomes the dropped copy
    fresh = fresh_copy(builder.started)
    original_line = builder.main.add(fresh.row)
    earlier = copy.deepcopy(fresh.row)
    earlier["se_property"] = "conflicting copy"
    earlier["uploaded_at"] = shift(fresh.row["uploaded_at"], hours=-1)
    line = builder.main.add(earlier)
    builder.kind("conflicting_earlier_copy", "execution", earlier, line, fresh=fresh)
    builder.kind("overtaken_original", "duplicate", fresh.row, original_line)


def legacy_and_state(builder: Builder) -> None:
    fresh = fresh_copy(builder.started)
    label = f"hostile-legacy-{uuid.uuid4().hex[:12]}"
    fresh.row.update(
        event="struct",
        contexts=None,
        unstruct_event=None,
        se_category="meltano elt",
        se_action="meltano elt tap-x target-y",
        se_label=label,
        event_vendor=None,
        event_name=None,
        event_format=None,
        event_version=None,
    )
    builder.add(
        "legacy_struct_without_contexts",
        "execution",
        fresh,
        execution_id=fresh.row["event_id"],
        execution_expect={"project_id": label, "command": "elt"},
    )

    builder.add("opt_out_notice", "not_execution", fresh_copy(builder.opt_out))


def tsv_rows(builder: Builder) -> None:
    fresh = fresh_copy(builder.exit_event)
    line = builder.tsv.add(tsv_line(fresh.row, builder.atomic_columns))
    builder.kind("tsv_row", "execution", fresh.row, line, file=builder.tsv, fresh=fresh)
    row = fresh_copy(builder.exit_event).row
    line = builder.tsv.add(tsv_line(row, builder.atomic_columns, drop_last=True))
    builder.kind("tsv_130_fields", "rejected:wrong_field_count", row, line, file=builder.tsv)
