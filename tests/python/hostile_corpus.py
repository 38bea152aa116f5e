"""A hostile corpus: real Meltano CLI events, each mutated into one "kind" of bad or odd row.

``build_hostile_corpus(folder)`` writes three files made from the real events of
real_cli_events.jsonl:

* ``hostile_events.jsonl``: ~30 untouched real events (whole executions) and one row per kind,
  with a UTF-8 byte order mark before the first line, CRLF endings on some lines and blank or
  whitespace-only lines in between;
* ``hostile_events_second.jsonl``: what needs a second file (an exact copy of a row of the
  first file);
* ``hostile_events.tsv``: Snowplow enriched TSV (one good row, one row of 130 fields).

Every mutated row gets a fresh ``event_id`` and a fresh execution (new
``project_context.context_uuid``, ``environment_context.context_uuid``, ``project_uuid`` and
``client_uuid``), so each kind's fate is independent of the others and of the untouched events.
Every ``uploaded_at`` is in the past (the real row's own) except where the kind is about it.

Each kind is a :class:`HostileKind`: its name, its expected fate, the event id (or, for a row
without one, its file and line) and what else the contract says about it. Fates:

* ``rejected:<reason>``: ``kpis load`` rejects the line (raw.snowplow_events_rejected);
* ``quarantined:<reason>``: staging.stg_snowplow__events_quarantine;
* ``duplicate``: a dropped copy (staging.stg_snowplow__events_duplicates);
* ``execution``: parsed, and its execution (``execution_id``) is in marts.fct_cli_executions;
* ``not_execution``: parsed, and not an execution.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conftest import REAL_EVENTS

MAIN_FILE = "hostile_events.jsonl"
SECOND_FILE = "hostile_events_second.jsonl"
TSV_FILE = "hostile_events.tsv"

#: the raw IP addresses of the two IP kinds: they must not appear downstream of the source
IPV4 = "198.51.100.73"
IPV6 = "2001:db8::1"

SQL_SINGLE = "'; drop table raw.snowplow_events; --"
SQL_DOUBLE = '" or 1=1 --'

#: untouched real events in the main file (whole executions, at least this many events)
UNTOUCHED_EVENTS = 30

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

CONTEXTS_SCHEMA = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0"
UNSTRUCT_SCHEMA = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"

Row = dict[str, Any]


@dataclass(frozen=True)
class HostileKind:
    """One kind of hostile row and its expected fate."""

    name: str
    #: ``rejected:<reason>``, ``quarantined:<reason>``, ``duplicate``, ``execution`` or
    #: ``not_execution``
    fate: str
    #: the row's event_id as written (None when the row has none or is not an event)
    event_id: str | None
    #: where the row is: file name and 1-based line number in that file
    source_file: str
    source_line: int
    #: for ``execution``: the execution it must make (project_context.context_uuid, or the
    #: event_id of a pure legacy struct event); for ``not_execution``: the context_uuid that
    #: must NOT be an execution
    execution_id: str | None = None
    #: the row is one of two identical copies: either copy may be the one kept
    either_copy: bool = False
    #: columns of its execution in marts.fct_cli_executions and their expected values
    execution_expect: Mapping[str, Any] = field(default_factory=dict)
    #: its project (marts.dim_projects.project_id) and the expected values of some columns
    project_id: str | None = None
    project_expect: Mapping[str, Any] = field(default_factory=dict)

    @property
    def fate_kind(self) -> str:
        return self.fate.split(":", 1)[0]

    @property
    def reason(self) -> str | None:
        return self.fate.split(":", 1)[1] if ":" in self.fate else None


@dataclass
class HostileCorpus:
    """The files (in load order) and the kinds they hold."""

    files: list[Path]
    kinds: list[HostileKind]
    #: (file name, line) of the blank and whitespace-only lines: ignored, no fate
    blank_lines: list[tuple[str, int]]
    #: event ids of the untouched real events
    untouched_event_ids: list[str]
    #: lines (not blank) in all files: each is either a raw row or a rejected line
    line_count: int
    ip_addresses: tuple[str, ...] = (IPV4, IPV6)

    def by_fate(self, fate_kind: str) -> list[HostileKind]:
        return [kind for kind in self.kinds if kind.fate_kind == fate_kind]

    @property
    def rejected_count(self) -> int:
        return len(self.by_fate("rejected"))


# --------------------------------------------------------------------------------------------
# files


class _File:
    """Lines of one file, as bytes, numbered from 1."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: list[tuple[bytes, bool]] = []  # (content, crlf)

    def add(self, content: bytes | str | Row, *, crlf: bool = False) -> int:
        if isinstance(content, dict):
            content = _dumps(content)
        if isinstance(content, str):
            content = content.encode("utf-8")
        assert b"\n" not in content, "one line per row"
        self.lines.append((content, crlf))
        return len(self.lines)

    def write(self, folder: Path, *, bom: bool = False) -> Path:
        path = folder / self.name
        data = b"".join(line + (b"\r\n" if crlf else b"\n") for line, crlf in self.lines)
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
        return path


def _dumps(row: Row) -> str:
    return json.dumps(row, separators=(",", ":"), ensure_ascii=False)


def _new_id() -> str:
    return str(uuid.uuid4())


def _shift(timestamp: str, **delta: float) -> str:
    value = dt.datetime.fromisoformat(timestamp) + dt.timedelta(**delta)
    return value.isoformat(sep=" ", timespec="milliseconds")


# --------------------------------------------------------------------------------------------
# real events and fresh copies of them


def _real_rows() -> list[Row]:
    return [json.loads(line) for line in REAL_EVENTS.read_text().splitlines() if line.strip()]


def _contexts(row: Row) -> list[Row]:
    return json.loads(row["contexts"])["data"] if row.get("contexts") else []


def _unstruct_data(row: Row) -> Row:
    return json.loads(row["unstruct_event"])["data"]["data"]


def _context_of(row: Row, name: str) -> Row | None:
    for context in _contexts(row):
        if f"/{name}/" in context.get("schema", ""):
            return context
    return None


@dataclass
class Fresh:
    """A real row with a fresh event id and a fresh execution and project."""

    row: Row
    execution_id: str
    project_id: str


def _fresh(base: Row) -> Fresh:
    row = copy.deepcopy(base)
    row["event_id"] = _new_id()
    execution_id, project_id = _new_id(), _new_id()
    contexts = json.loads(row["contexts"])
    for context in contexts["data"]:
        data = context["data"]
        if "/project_context/" in context["schema"]:
            data.update(context_uuid=execution_id, project_uuid=project_id, client_uuid=_new_id())
        elif "/environment_context/" in context["schema"]:
            data.update(context_uuid=_new_id(), parent_context_uuid=None)
        elif isinstance(data, dict) and "context_uuid" in data:
            data["context_uuid"] = _new_id()
    row["contexts"] = json.dumps(contexts)
    return Fresh(row, execution_id, project_id)


def _edit_contexts(row: Row, edit: Callable[[list[Row]], Any]) -> None:
    """Let ``edit`` change the list of context elements in place (or return a new list)."""
    contexts = json.loads(row["contexts"])
    result = edit(contexts["data"])
    if result is not None:
        contexts["data"] = result
    row["contexts"] = json.dumps(contexts)


def _edit_context(row: Row, name: str, edit: Callable[[Row], None]) -> None:
    """Let ``edit`` change the first context element of that schema name (the whole element)."""

    def apply(elements: list[Row]) -> None:
        for element in elements:
            if f"/{name}/" in element.get("schema", ""):
                edit(element)
                return
        raise AssertionError(f"no {name} in the base row")

    _edit_contexts(row, apply)


def _edit_event_data(row: Row, edit: Callable[[Row], None]) -> None:
    unstruct = json.loads(row["unstruct_event"])
    edit(unstruct["data"]["data"])
    row["unstruct_event"] = json.dumps(unstruct)


def _strings_changed(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [_strings_changed(item, change) for item in value]
    if isinstance(value, dict):
        return {key: _strings_changed(item, change) for key, item in value.items()}
    return value


def _tsv_line(row: Row, columns: list[str], *, drop_last: bool = False) -> str:
    values = ["" if row.get(column) is None else str(row[column]) for column in columns]
    for value in values:
        assert "\t" not in value and "\n" not in value and "\r" not in value
    if drop_last:
        values = values[:-1]
    return "\t".join(values)


# --------------------------------------------------------------------------------------------
# the corpus


class _Builder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.rows = _real_rows()
        self.atomic_columns = list(self.rows[0].keys())[:131]
        assert self.atomic_columns[-1] == "true_tstamp", self.atomic_columns[-5:]
        self.main = _File(MAIN_FILE)
        self.second = _File(SECOND_FILE)
        self.tsv = _File(TSV_FILE)
        self.kinds: list[HostileKind] = []
        self.blank_lines: list[tuple[str, int]] = []
        self._pick_bases()

    # bases ------------------------------------------------------------------------------------
    def _first(self, test: Callable[[Row], bool], what: str) -> Row:
        for row in self.rows:
            if test(row):
                return row
        raise AssertionError(f"no {what} in {REAL_EVENTS}")

    def _pick_bases(self) -> None:
        def cli(event: str) -> Callable[[Row], bool]:
            return lambda r: r["event_name"] == "cli_event" and _unstruct_data(r)["event"] == event

        self.started = self._first(cli("started"), "cli_event started")
        self.inflight = self._first(
            lambda r: cli("inflight")(r) and _context_of(r, "plugins_context") is not None,
            "cli_event inflight with plugins",
        )
        self.exit_event = self._first(
            lambda r: r["event_name"] == "exit_event" and _unstruct_data(r)["exit_code"] == 0,
            "successful exit_event",
        )
        self.opt_out = self._first(
            lambda r: (
                r["event_name"] == "telemetry_state_change_event"
                and _unstruct_data(r)["changed_to"] is False
            ),
            "opt-out telemetry_state_change_event",
        )

    # helpers ----------------------------------------------------------------------------------
    def kind(
        self,
        name: str,
        fate: str,
        row: Row | None,
        line: int,
        *,
        file: _File | None = None,
        fresh: Fresh | None = None,
        event_id: str | None = None,
        **extra: Any,
    ) -> HostileKind:
        file = file or self.main
        if event_id is None and row is not None:
            event_id = row.get("event_id")
        if fresh is not None and fate in ("execution", "not_execution"):
            extra.setdefault("execution_id", fresh.execution_id)
        if fresh is not None and extra.get("project_expect"):
            extra.setdefault("project_id", fresh.project_id)
        kind = HostileKind(
            name=name,
            fate=fate,
            event_id=event_id if isinstance(event_id, str) else None,
            source_file=file.name,
            source_line=line,
            **extra,
        )
        assert name not in {k.name for k in self.kinds}, name
        self.kinds.append(kind)
        return kind

    def add(
        self, name: str, fate: str, fresh: Fresh, *, crlf: bool = False, **extra: Any
    ) -> HostileKind:
        """Write a fresh (already mutated) row to the main file as one kind."""
        line = self.main.add(fresh.row, crlf=crlf)
        return self.kind(name, fate, fresh.row, line, fresh=fresh, **extra)

    def blank(self, text: str = "") -> None:
        line = self.main.add(text)
        self.blank_lines.append((self.main.name, line))

    # the file ---------------------------------------------------------------------------------
    def build(self) -> HostileCorpus:
        # line 1 (after the byte order mark): an ordinary event that must load
        self.add("bom_first_line", "execution", _fresh(self.started))
        untouched = self._untouched()
        # untouched events between the kinds, some with CRLF, some blank lines in between
        writers = [
            self._rejected,
            self._missing_event_id,
            self._invalid_json,
            self._invalid_timestamp,
            self._implausible_timestamp,
            self._unknown_event,
            self._missing_project_context,
            self._odd_values,
            self._odd_text,
            self._duplicates,
            self._legacy_and_state,
        ]
        chunk = max(1, len(untouched) // len(writers))
        for number, writer in enumerate(writers):
            for index, row in enumerate(untouched[number * chunk : (number + 1) * chunk]):
                self.main.add(row, crlf=index % 3 == 0)
            writer()
            self.blank("" if number % 2 else " \t ")
        for row in untouched[len(writers) * chunk :]:
            self.main.add(row)
        self._tsv()
        paths = [
            self.main.write(self.folder, bom=True),
            self.second.write(self.folder),
            self.tsv.write(self.folder),
        ]
        lines = sum(len(f.lines) for f in (self.main, self.second, self.tsv))
        return HostileCorpus(
            files=paths,
            kinds=self.kinds,
            blank_lines=self.blank_lines,
            untouched_event_ids=[row["event_id"] for row in untouched],
            line_count=lines - len(self.blank_lines),
        )

    def _untouched(self) -> list[Row]:
        """Whole executions of real events, at least UNTOUCHED_EVENTS events."""
        by_execution: dict[str, list[Row]] = {}
        for row in self.rows:
            project = _context_of(row, "project_context")
            by_execution.setdefault(project["data"]["context_uuid"], []).append(row)
        chosen: list[Row] = []
        for events in by_execution.values():
            if len(chosen) >= UNTOUCHED_EVENTS:
                break
            chosen.extend(events)
        return [copy.deepcopy(row) for row in chosen]

    # rejected by `kpis load` ------------------------------------------------------------------
    def _rejected(self) -> None:
        def reject(name: str, reason: str, content: bytes | str, row: Row | None = None) -> None:
            line = self.main.add(content)
            self.kind(name, f"rejected:{reason}", row, line)

        row = _fresh(self.started).row
        row["se_property"] = "MARKER"
        reject(
            "invalid_utf8",
            "invalid_utf8",
            _dumps(row).encode().replace(b"MARKER", b"caf\xe9 \xff\xfe"),
            row,
        )
        row = _fresh(self.started).row
        text = _dumps(row)
        reject("invalid_json_line", "invalid_json", text[: len(text) // 2], row)
        reject("not_an_object_array", "not_an_object", "[" + _dumps(_fresh(self.started).row) + "]")
        reject("not_an_object_number", "not_an_object", "42")
        reject("not_an_object_null", "not_an_object", "null")
        row = _fresh(self.started).row
        row["se_property"] = "MARKER"
        reject(
            "nul_character_raw",
            "nul_character",
            _dumps(row).encode().replace(b"MARKER", b"a\x00b"),
            row,
        )
        row = _fresh(self.started).row
        row["se_property"] = "a\x00b"  # json.dumps writes the \u0000 escape
        assert "\\u0000" in _dumps(row)
        reject("nul_character_escape", "nul_character", _dumps(row), row)
        row = _fresh(self.started).row
        row["uploaded_at"] = "yesterday-ish"
        reject("uploaded_at_unparseable", "invalid_uploaded_at", _dumps(row), row)
        row = _fresh(self.started).row
        row["uploaded_at"] = "2999-01-01 00:00:00"
        reject("uploaded_at_after_the_load", "invalid_uploaded_at", _dumps(row), row)

    # quarantined ------------------------------------------------------------------------------
    def _missing_event_id(self) -> None:
        for name, value in (
            ("event_id_null", None),
            ("event_id_empty", ""),
            ("event_id_whitespace", "  \t "),
        ):
            fresh = _fresh(self.started)
            fresh.row["event_id"] = value
            self.add(name, "quarantined:missing_event_id", fresh)

    def _invalid_json(self) -> None:
        fate = "quarantined:invalid_json"
        fresh = _fresh(self.started)
        fresh.row["contexts"] = fresh.row["contexts"][:-40]
        self.add("contexts_not_json", fate, fresh)

        fresh = _fresh(self.started)
        fresh.row["unstruct_event"] = '{"schema": "' + UNSTRUCT_SCHEMA + '", "data": {not json'
        self.add("unstruct_not_json", fate, fresh)

        fresh = _fresh(self.started)
        fresh.row["contexts"] = "[]"
        self.add("contexts_an_array", fate, fresh)

        fresh = _fresh(self.started)
        fresh.row["contexts"] = json.dumps({"schema": CONTEXTS_SCHEMA, "data": 5})
        self.add("contexts_data_not_an_array", fate, fresh)

        fresh = _fresh(self.started)
        fresh.row["unstruct_event"] = json.dumps([json.loads(fresh.row["unstruct_event"])])
        self.add("unstruct_an_array", fate, fresh)

        fresh = _fresh(self.started)
        fresh.row["unstruct_event"] = json.dumps(
            {"schema": UNSTRUCT_SCHEMA, "data": "iglu:com.meltano/cli_event/jsonschema/1-0-1"}
        )
        self.add("unstruct_data_not_an_object", fate, fresh)

    def _invalid_timestamp(self) -> None:
        fate = "quarantined:invalid_timestamp"
        for name, column, value in (
            ("derived_tstamp_null", "derived_tstamp", None),
            ("derived_tstamp_month_13", "derived_tstamp", "2026-13-45 99:00:00.000"),
            ("derived_tstamp_february_30", "derived_tstamp", "2026-02-30 10:00:00.000"),
            ("collector_tstamp_unparseable", "collector_tstamp", "half past ten"),
        ):
            fresh = _fresh(self.started)
            fresh.row[column] = value
            self.add(name, fate, fresh)

    def _implausible_timestamp(self) -> None:
        fate = "quarantined:implausible_timestamp"
        fresh = _fresh(self.started)
        fresh.row["derived_tstamp"] = "2999-01-01 00:00:00.000"
        self.add("derived_tstamp_year_2999", fate, fresh)

        fresh = _fresh(self.started)
        fresh.row["derived_tstamp"] = "1970-01-01 00:00:00.000"
        self.add("derived_tstamp_1970", fate, fresh)

        fresh = _fresh(self.started)
        collector = fresh.row["collector_tstamp"]
        fresh.row["derived_tstamp"] = _shift(collector, hours=25)
        # uploaded after both, so that only the clock-ahead rule applies
        fresh.row["uploaded_at"] = _shift(collector, hours=26)
        self.add("derived_25h_after_collector", fate, fresh)

        fresh = _fresh(self.started)
        fresh.row["collector_tstamp"] = "2999-01-01 00:00:00.000"
        fresh.row["derived_tstamp"] = "2999-01-01 00:00:00.000"
        self.add("collector_and_derived_year_2999", fate, fresh)

        # the boundary: 23 hours ahead is within max_event_clock_ahead_hours (24)
        fresh = _fresh(self.started)
        collector = fresh.row["collector_tstamp"]
        fresh.row["derived_tstamp"] = _shift(collector, hours=23)
        fresh.row["uploaded_at"] = _shift(collector, hours=24)
        self.add("derived_23h_after_collector", "execution", fresh)

    def _unknown_event(self) -> None:
        fate = "quarantined:unknown_event"
        fresh = _fresh(self.started)
        fresh.row.update(event="page_view", unstruct_event=None, page_url="https://example.com/")
        self.add("event_type_page_view", fate, fresh)

        fresh = _fresh(self.started)
        fresh.row["unstruct_event"] = fresh.row["unstruct_event"].replace(
            "iglu:com.meltano/cli_event/", "iglu:com.acme/cli_event/"
        )
        assert "com.acme" in fresh.row["unstruct_event"]
        self.add("unstruct_vendor_acme", fate, fresh)

        fresh = _fresh(self.started)
        fresh.row["unstruct_event"] = json.dumps(
            {
                "schema": UNSTRUCT_SCHEMA,
                "data": {"schema": "iglu:com.meltano/foo_event/jsonschema/1-0-0", "data": {}},
            }
        )
        self.add("unknown_meltano_event_name", fate, fresh)

        fresh = _fresh(self.started)
        fresh.row.update(
            event="struct",
            unstruct_event=None,
            se_category="acme deploy",
            se_action="acme deploy now",
            se_label=str(uuid.uuid4()),
        )
        self.add("struct_category_not_meltano", fate, fresh)

    def _missing_project_context(self) -> None:
        fate = "quarantined:missing_project_context"

        def without_project(elements: list[Row]) -> list[Row]:
            return [e for e in elements if "/project_context/" not in e["schema"]]

        fresh = _fresh(self.started)
        _edit_contexts(fresh.row, without_project)
        self.add("no_project_context", fate, fresh)

        fresh = _fresh(self.started)
        _edit_context(fresh.row, "project_context", lambda e: e["data"].update(project_uuid=None))
        self.add("project_uuid_null", fate, fresh)

        fresh = _fresh(self.started)
        _edit_context(fresh.row, "project_context", lambda e: e["data"].pop("project_uuid"))
        self.add("project_uuid_key_missing", fate, fresh)

        fresh = _fresh(self.started)
        _edit_context(fresh.row, "project_context", lambda e: e["data"].update(project_uuid=""))
        self.add("project_uuid_empty", fate, fresh)

        fresh = _fresh(self.started)
        _edit_context(fresh.row, "project_context", lambda e: e.update(data=fresh.project_id))
        self.add("project_context_data_a_string", fate, fresh)

        fresh = _fresh(self.started)
        _edit_context(
            fresh.row, "project_context", lambda e: e.update(data=[e["data"]["project_uuid"]])
        )
        self.add("project_context_data_an_array", fate, fresh)

        fresh = _fresh(self.started)
        _edit_contexts(fresh.row, without_project)
        _edit_context(
            fresh.row,
            "cli_context",
            lambda e: e["data"]["options"].update(
                log_config="iglu:com.meltano/project_context/jsonschema/1-0-0"
            ),
        )
        assert '"iglu:com.meltano/project_context/' in fresh.row["contexts"]
        self.add("project_context_only_mentioned", fate, fresh)

        fresh = _fresh(self.started)
        _edit_context(
            fresh.row,
            "project_context",
            lambda e: e.update(schema=e["schema"].replace("com.meltano", "com.acme")),
        )
        self.add("project_context_vendor_acme", fate, fresh)

        fresh = _fresh(self.started)
        fresh.row.update(
            event="struct",
            contexts=None,
            unstruct_event=None,
            se_category="meltano elt",
            se_action="meltano elt tap-x target-y",
            se_label=None,
        )
        self.add("struct_without_contexts_or_label", fate, fresh)

    # parsed: odd values inside usable events --------------------------------------------------
    def _odd_values(self) -> None:
        def plugins(value: Any) -> Callable[[Row], None]:
            return lambda e: e["data"].update(plugins=value)

        for name, value in (
            ("plugins_scalars", ["a", 1, None]),
            ("plugins_an_object", {"name_hash": "a", "command": None}),
            ("plugins_a_string", "tap-x"),
        ):
            fresh = _fresh(self.inflight)
            _edit_context(fresh.row, "plugins_context", plugins(value))
            self.add(name, "execution", fresh)

        fresh = _fresh(self.started)
        _edit_context(
            fresh.row, "project_context", lambda e: e["data"].update(project_uuid_source="banana")
        )
        self.add(
            "project_uuid_source_unknown",
            "execution",
            fresh,
            execution_expect={"project_uuid_source": None},
        )

        for name, version in (
            ("meltano_version_huge", "99999999999.0.0"),
            ("meltano_version_text", "not-a-version"),
        ):
            fresh = _fresh(self.started)
            _edit_context(
                fresh.row,
                "environment_context",
                lambda e, v=version: e["data"].update(meltano_version=v),
            )
            self.add(name, "execution", fresh, project_expect={"first_meltano_major_version": None})

        for name, code in (
            ("exit_code_text", "abc"),
            ("exit_code_fraction", 1.5),
            ("exit_code_huge", 99999999999),
        ):
            fresh = _fresh(self.exit_event)
            _edit_event_data(fresh.row, lambda d, c=code: d.update(exit_code=c))
            self.add(
                name,
                "execution",
                fresh,
                execution_expect={"exit_code": None, "is_success": False},
            )

        for name, value in (
            ("exit_timestamp_february_30", "2026-02-30T10:00:00"),
            ("exit_timestamp_offset_99_99", "2026-07-01T14:05:01.325204+99:99"),
        ):
            fresh = _fresh(self.exit_event)
            _edit_event_data(fresh.row, lambda d, v=value: d.update(exit_timestamp=v))
            self.add(name, "execution", fresh, execution_expect={"exit_code": 0})

        fresh = _fresh(self.started)

        def bad_process_times(element: Row) -> None:
            for number, process in enumerate(element["data"]["process_hierarchy"]):
                process["process_creation_timestamp"] = (
                    "2026-02-30T10:00:00" if number % 2 else "2026-07-01T14:04:59+99:99"
                )

        _edit_context(fresh.row, "environment_context", bad_process_times)
        self.add("process_creation_timestamp_invalid", "execution", fresh)

        fresh = _fresh(self.exit_event)
        fresh.row["unstruct_event"] = fresh.row["unstruct_event"].replace(
            "exit_event/jsonschema/1-0-1", "exit_event/jsonschema/1-9-0"
        )
        assert "exit_event/jsonschema/1-9-0" in fresh.row["unstruct_event"]
        self.add("exit_event_version_1_9_0", "execution", fresh, execution_expect={"exit_code": 0})

        fresh = _fresh(self.started)
        _edit_context(
            fresh.row,
            "project_context",
            lambda e: e.update(schema="iglu:com.meltano/project_context/jsonschema/1-9-0"),
        )
        self.add("project_context_version_1_9_0", "execution", fresh)

        fresh = _fresh(self.started)
        _edit_contexts(
            fresh.row,
            lambda elements: [
                {"schema": "iglu:com.acme/foo/jsonschema/1-0-0", "data": {"foo": "bar"}},
                *elements,
            ],
        )
        self.add("context_vendor_acme", "execution", fresh)

        fresh = _fresh(self.started)
        _edit_contexts(fresh.row, lambda elements: [*elements, {"data": {"foo": "bar"}}])
        self.add("context_without_schema", "execution", fresh)

        fresh = _fresh(self.started)
        _edit_context(
            fresh.row, "environment_context", lambda e: e["data"].update(is_ci_environment="yes")
        )
        self.add("is_ci_environment_text", "execution", fresh)

        fresh = _fresh(self.started)
        _edit_context(
            fresh.row,
            "cli_context",
            lambda e: e["data"]["options"].update(log_config="x" * (2 * 1024 * 1024)),
        )
        assert len(fresh.row["contexts"]) > 2 * 1024 * 1024
        self.add("huge_payload", "execution", fresh)

    def _odd_text(self) -> None:
        fresh = _fresh(self.started)

        def control(elements: list[Row]) -> None:
            for element in elements:
                if "/cli_context/" in element["schema"]:
                    element["data"] = _strings_changed(
                        element["data"], lambda s: s + "\u0001\u001f\n\t"
                    )

        _edit_contexts(fresh.row, control)
        assert "\\u0001" in fresh.row["contexts"] and "\\u001f" in fresh.row["contexts"]
        self.add("control_characters_in_cli_context", "execution", fresh)

        fresh = _fresh(self.started)
        for column in self.atomic_columns:
            if column not in PARSING_COLUMNS and column not in NUMERIC_COLUMNS:
                fresh.row[column] = f"{SQL_SINGLE} {SQL_DOUBLE}"
        self.add("sql_text_in_every_text_field", "execution", fresh)

        for name, event_id in (
            ("sql_event_id_single_quote", SQL_SINGLE),
            ("sql_event_id_double_quote", SQL_DOUBLE),
        ):
            fresh = _fresh(self.started)
            fresh.row["event_id"] = event_id
            self.add(name, "execution", fresh)

        for name, address in (("ip_address_v4", IPV4), ("ip_address_v6", IPV6)):
            fresh = _fresh(self.started)
            fresh.row["user_ipaddress"] = address
            self.add(name, "execution", fresh)

        self.add("crlf_line", "execution", _fresh(self.started), crlf=True)

    # duplicates -------------------------------------------------------------------------------
    def _duplicates(self) -> None:
        # an exact copy later in the same file (same uploaded_at): either copy may be kept
        fresh = _fresh(self.exit_event)
        self.add("exact_copy_same_file_original", "execution", fresh, either_copy=True)
        line = self.main.add(fresh.row)
        self.kind("exact_copy_same_file", "duplicate", fresh.row, line, either_copy=True)

        # an exact copy in the second file
        fresh = _fresh(self.exit_event)
        self.add("exact_copy_second_file_original", "execution", fresh, either_copy=True)
        line = self.second.add(fresh.row)
        self.kind(
            "exact_copy_second_file", "duplicate", fresh.row, line, file=self.second,
            either_copy=True,
        )  # fmt: skip

        # a conflicting copy uploaded LATER: dropped, the original kept
        fresh = _fresh(self.started)
        self.add("conflicting_later_copy_original", "execution", fresh)
        later = copy.deepcopy(fresh.row)
        later["se_property"] = "conflicting copy"
        later["uploaded_at"] = _shift(fresh.row["uploaded_at"], hours=1)
        line = self.main.add(later)
        self.kind("conflicting_later_copy", "duplicate", later, line)

        # a conflicting copy uploaded EARLIER (written after the original): it is kept, the
        # original becomes the dropped copy
        fresh = _fresh(self.started)
        original_line = self.main.add(fresh.row)
        earlier = copy.deepcopy(fresh.row)
        earlier["se_property"] = "conflicting copy"
        earlier["uploaded_at"] = _shift(fresh.row["uploaded_at"], hours=-1)
        line = self.main.add(earlier)
        self.kind("conflicting_earlier_copy", "execution", earlier, line, fresh=fresh)
        self.kind("overtaken_original", "duplicate", fresh.row, original_line)

    # legacy struct events and the opt-out notice ----------------------------------------------
    def _legacy_and_state(self) -> None:
        fresh = _fresh(self.started)
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
        self.add(
            "legacy_struct_without_contexts",
            "execution",
            fresh,
            execution_id=fresh.row["event_id"],
            execution_expect={"project_id": label, "command": "elt"},
        )

        self.add("opt_out_notice", "not_execution", _fresh(self.opt_out))

    # TSV --------------------------------------------------------------------------------------
    def _tsv(self) -> None:
        fresh = _fresh(self.exit_event)
        line = self.tsv.add(_tsv_line(fresh.row, self.atomic_columns))
        self.kind("tsv_row", "execution", fresh.row, line, file=self.tsv, fresh=fresh)
        row = _fresh(self.exit_event).row
        line = self.tsv.add(_tsv_line(row, self.atomic_columns, drop_last=True))
        self.kind("tsv_130_fields", "rejected:wrong_field_count", row, line, file=self.tsv)


def build_hostile_corpus(folder: Path) -> HostileCorpus:
    """Write the hostile files into ``folder``; the files (load them in this order) and kinds."""
    folder.mkdir(parents=True, exist_ok=True)
    return _Builder(folder).build()


def iter_kind_rows(corpus: HostileCorpus) -> Iterator[tuple[HostileKind, bytes]]:
    """Each kind with the raw bytes of its line (for loading a kind alone)."""
    lines = {}
    for path in corpus.files:
        data = path.read_bytes()
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        for number, line in enumerate(data.split(b"\n"), start=1):
            lines[(path.name, number)] = line
    for kind in corpus.kinds:
        yield kind, lines[(kind.source_file, kind.source_line)]
