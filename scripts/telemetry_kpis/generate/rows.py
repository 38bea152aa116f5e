"""Snowplow enriched-event rows as text: one JSON line or one line of the 131 TSV fields.

Most of a row is constant (the 131 atomic columns are mostly null), so a row is rendered as
the constant text between its few varying values. ``Format.render`` takes any row; the fast
renderer takes the common one (an unstructured com.meltano event) as plain arguments, and its
constant pieces are cut out of ``render``'s own output, so both give the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Protocol

from telemetry_kpis.atomic import ATOMIC_COLUMNS

#: columns that vary per event, in the order ``Format.render`` takes them
VAR_COLUMNS = (
    "etl_tstamp",
    "collector_tstamp",
    "dvce_created_tstamp",
    "event",
    "event_id",
    "v_tracker",
    "user_ipaddress",
    "network_userid",
    "contexts",
    "se_category",
    "se_action",
    "se_label",
    "unstruct_event",
    "os_timezone",
    "dvce_sent_tstamp",
    "derived_tstamp",
    "event_vendor",
    "event_name",
    "event_format",
    "event_version",
)
CONST_COLUMNS = {
    "app_id": "meltano",
    "platform": "pc",
    "name_tracker": "meltano-core",
    "v_collector": "ssc-3.2.0-kinesis",
    "v_etl": "snowplow-enrich-kinesis-4.1.0",
    "useragent": "python-requests/2.32.3",
    "br_lang": "en_US",
}


def _jsonl_template() -> str:
    parts = []
    for col in ATOMIC_COLUMNS:
        if col in VAR_COLUMNS:
            parts.append(f'"{col}":%s')
        elif col in CONST_COLUMNS:
            parts.append(f'"{col}":"{CONST_COLUMNS[col]}"')
        else:
            parts.append(f'"{col}":null')
    parts.append('"uploaded_at":"%s"')
    parts.append('"load_tstamp":"%s"')
    return "{" + ",".join(parts) + "}\n"


def _tsv_template() -> str:
    parts = []
    for col in ATOMIC_COLUMNS:
        if col in VAR_COLUMNS:
            parts.append("%s")
        else:
            parts.append(CONST_COLUMNS.get(col, ""))
    return "\t".join(parts) + "\n"


JSONL_TEMPLATE = _jsonl_template()
TSV_TEMPLATE = _tsv_template()

#: the arguments of the fast renderer, in the order of their columns; the contexts column is
#: ``ctx_head + ctx_tail + "]}"`` (the head is shared by the events of one process)
FAST_SLOTS = (
    "etl",
    "collector",
    "created",
    "event_id",
    "tracker",
    "ip",
    "nuid",
    "ctx_head",
    "ctx_tail",
    "unstruct",
    "tz",
    "sent",
    "derived",
    "name",
    "version",
)


class FastRender(Protocol):
    """Renders the row of an unstructured com.meltano event (``up``: uploaded_at, JSONL only)."""

    def __call__(
        self,
        etl: str,
        collector: str,
        created: str,
        event_id: str,
        tracker: str,
        ip: str,
        nuid: str,
        ctx_head: str,
        ctx_tail: str,
        unstruct: str,
        tz: str,
        sent: str,
        derived: str,
        name: str,
        version: str,
        up: str,
    ) -> str: ...


#: renders the row of any event from the VAR_COLUMNS values (None: null, or empty in TSV)
#: and the upload time
Render = Callable[[Sequence[str | None], str], str]


def render_jsonl(vals: Sequence[str | None], uploaded: str) -> str:
    return JSONL_TEMPLATE % (
        *["null" if v is None else '"' + v + '"' for v in vals],
        uploaded,
        uploaded,
    )


def render_tsv(vals: Sequence[str | None], uploaded: str) -> str:
    return TSV_TEMPLATE % tuple("" if v is None else v for v in vals)


def general_values(args: Sequence[str]) -> list[str | None]:
    """The VAR_COLUMNS values of an unstructured event from the fast renderer's arguments."""
    etl, collector, created, event_id, tracker, ip, nuid, ctx_head, ctx_tail = args[:9]
    unstruct, tz, sent, derived, name, version = args[9:15]
    return [
        etl,
        collector,
        created,
        "unstruct",
        event_id,
        tracker,
        ip,
        nuid,
        ctx_head + ctx_tail + "]}",
        None,  # se_category
        None,  # se_action
        None,  # se_label
        unstruct,
        tz,
        sent,
        derived,
        "com.meltano",
        name,
        "jsonschema",
        version,
    ]


def _fast_pieces(jsonl: bool) -> list[str]:
    """The constant text before each value of the fast renderer, and after the last one."""
    marks = [f"\0{slot}\0" for slot in FAST_SLOTS]
    render = render_jsonl if jsonl else render_tsv
    cut = render(general_values(marks), "\0up\0").split("\0")
    slots, pieces = cut[1::2], cut[0::2]
    expected = [*FAST_SLOTS, "up", "up"] if jsonl else list(FAST_SLOTS)
    if slots != expected or pieces[FAST_SLOTS.index("ctx_tail")] != "":
        raise RuntimeError(f"the atomic columns moved: fast row slots {slots}")
    return pieces


def _fast_jsonl(c: Sequence[str]) -> FastRender:
    # c[8], between ctx_head and ctx_tail, is empty
    c0, c1, c2, c3, c4, c5, c6, c7, _, c9, c10, c11, c12, c13, c14, c15, c16, c17 = c

    def fast(
        etl: str,
        collector: str,
        created: str,
        event_id: str,
        tracker: str,
        ip: str,
        nuid: str,
        ctx_head: str,
        ctx_tail: str,
        unstruct: str,
        tz: str,
        sent: str,
        derived: str,
        name: str,
        version: str,
        up: str,
    ) -> str:
        return (
            f"{c0}{etl}{c1}{collector}{c2}{created}{c3}{event_id}{c4}{tracker}{c5}{ip}{c6}"
            f"{nuid}{c7}{ctx_head}{ctx_tail}{c9}{unstruct}{c10}{tz}{c11}{sent}{c12}{derived}"
            f"{c13}{name}{c14}{version}{c15}{up}{c16}{up}{c17}"
        )

    return fast


def _fast_tsv(c: Sequence[str]) -> FastRender:
    # c[8], between ctx_head and ctx_tail, is empty
    c0, c1, c2, c3, c4, c5, c6, c7, _, c9, c10, c11, c12, c13, c14, c15 = c

    def fast(
        etl: str,
        collector: str,
        created: str,
        event_id: str,
        tracker: str,
        ip: str,
        nuid: str,
        ctx_head: str,
        ctx_tail: str,
        unstruct: str,
        tz: str,
        sent: str,
        derived: str,
        name: str,
        version: str,
        up: str,
    ) -> str:
        return (
            f"{c0}{etl}{c1}{collector}{c2}{created}{c3}{event_id}{c4}{tracker}{c5}{ip}{c6}"
            f"{nuid}{c7}{ctx_head}{ctx_tail}{c9}{unstruct}{c10}{tz}{c11}{sent}{c12}{derived}"
            f"{c13}{name}{c14}{version}{c15}"
        )

    return fast


@cache
def fast_renderer(jsonl: bool) -> FastRender:
    pieces = _fast_pieces(jsonl)
    return _fast_jsonl(pieces) if jsonl else _fast_tsv(pieces)


class Format:
    """How text fragments are encoded and rows rendered for one output format."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.jsonl = name == "jsonl"
        #: a double quote inside an encoded JSON text
        self.quote = '\\"' if self.jsonl else '"'
        self.render: Render = render_jsonl if self.jsonl else render_tsv
        self.fast = fast_renderer(self.jsonl)

    def enc(self, text: str) -> str:
        if self.jsonl:
            return text.replace("\\", "\\\\").replace('"', '\\"')
        return text
