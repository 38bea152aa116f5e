"""The DuckDB SQL that classifies and parses a batch of lines: which lines are raw rows, which
are rejected and why.

The same SQL runs for both targets (on the target itself for DuckDB, on an in-memory DuckDB
for PostgreSQL), so a file gives the same rows, the same rejects and the same reasons on either
warehouse; DuckDB's vectorised JSON and string functions do the per-line work Python would do
one line at a time.

A batch arrives as the DataFrame ``load_batch_frame(line_no, line, pre_reason)``;
``pre_reason`` is set by the reader for lines it already rejected (bad UTF-8, too long).
``load_params(source_file, default_uploaded_at, loaded_at, load_id)`` holds one row per file
(``loaded_at`` is the load's moment: _loaded_at of its rows, rejected_at of its rejects).
The EVENTS query of a format selects the good lines; when it inserted fewer rows than the
batch has lines, the REJECTS query selects the others. Both classify every line with the
same expressions, so a line is either loaded or rejected, never both and never neither.
"""

from __future__ import annotations

from telemetry_kpis.atomic import ATOMIC_COLUMNS, RAW_TEXT_COLUMNS
from telemetry_kpis.load.contract import quote

TSV_FIELD_COUNT = len(ATOMIC_COLUMNS)

#: DuckDB's ``from_json`` target type: every atomic column (and uploaded_at) as VARCHAR. A
#: non-string JSON value becomes its JSON text (objects and arrays compact); a missing key null.
_JSON_STRUCT = (
    "{" + ", ".join(f'"{c}": "VARCHAR"' for c in (*RAW_TEXT_COLUMNS, "uploaded_at")) + "}"
)
#: What the REJECTS query parses: only uploaded_at (same rules, much cheaper).
_JSON_STRUCT_UPLOADED_AT = '{"uploaded_at": "VARCHAR"}'
#: Lines that are empty or hold only whitespace are ignored (cheap test first).
_BLANK_CHARS = "chr(9) || chr(11) || chr(12) || chr(13) || chr(32)"
_NOT_BLANK = (
    f"line <> '' and (ascii(line) not in (9, 11, 12, 13, 32) or trim(line, {_BLANK_CHARS}) <> '')"
)
#: JSON whitespace that may precede the opening brace of an object.
_JSON_SPACE = "chr(32) || chr(9) || chr(13) || chr(10)"

_FRAME = f"""
with frame as (
    select
        cast(line_no as bigint) as line_no,
        cast(line as varchar) as line,
        cast(pre_reason as varchar) as pre_reason
    from load_batch_frame
    where {_NOT_BLANK}
),"""


def _jsonl_classified(struct: str) -> str:
    """CTEs ending in ``classified(line_no, line, payload, reason)``; reason null = good."""
    return f"""{_FRAME}
parsed as (
    select
        line_no,
        line,
        pre_reason,
        case
            -- json_valid first: from_json raises on malformed JSON (a raw NUL is malformed)
            when pre_reason is null and json_valid(line) then from_json(line, '{struct}')
        end as payload
    from frame
),
classified as (
    select
        line_no,
        line,
        payload,
        case
            when pre_reason is not null then pre_reason
            when contains(line, chr(0)) then 'nul_character'
            when payload is null and not json_valid(line) then 'invalid_json'
            when not starts_with(ltrim(line, {_JSON_SPACE}), '{{') then 'not_an_object'
            when contains(line, '\\u0000') then 'nul_character'
            when payload.uploaded_at is not null
                and try_cast(payload.uploaded_at as timestamptz) is null
                then 'invalid_uploaded_at'
            -- later than the moment of the load: cannot be when the row reached the warehouse
            when cast(try_cast(payload.uploaded_at as timestamptz) as timestamp)
                > (select loaded_at from load_params)
                then 'invalid_uploaded_at'
        end as reason
    from parsed
)"""


_JSONL_EVENTS = f"""{_jsonl_classified(_JSON_STRUCT)}
select
    {", ".join(f"c.payload.{quote(col)}" for col in RAW_TEXT_COLUMNS)},
    coalesce(
        cast(cast(c.payload.uploaded_at as timestamptz) as timestamp), p.default_uploaded_at
    ),
    p.source_file,
    c.line_no,
    p.load_id,
    p.loaded_at
from classified as c cross join load_params as p
where c.reason is null
"""

_TSV_CLASSIFIED = f"""{_FRAME}
classified as (
    select
        line_no,
        line,
        payload,
        case
            when pre_reason is not null then pre_reason
            when len(payload) <> {TSV_FIELD_COUNT} then 'wrong_field_count'
            when contains(line, chr(0)) then 'nul_character'
        end as reason
    from (
        select
            line_no,
            line,
            pre_reason,
            case when pre_reason is null then string_split(line, chr(9)) end as payload
        from frame
    )
)"""

_TSV_EVENTS = f"""{_TSV_CLASSIFIED}
select
    {", ".join(f"nullif(c.payload[{i}], '')" for i in range(1, TSV_FIELD_COUNT + 1))},
    {", ".join("null" for _ in RAW_TEXT_COLUMNS[TSV_FIELD_COUNT:])},
    p.default_uploaded_at,
    p.source_file,
    c.line_no,
    p.load_id,
    p.loaded_at
from classified as c cross join load_params as p
where c.reason is null
"""

_REJECTS_SELECT = """
select
    p.source_file, c.line_no, c.reason, replace(c.line, chr(0), chr(65533)), p.loaded_at, p.load_id
from classified as c cross join load_params as p
where c.reason is not null
"""

#: format -> (events query, rejects query)
PARSE_SQL: dict[str, tuple[str, str]] = {
    "jsonl": (_JSONL_EVENTS, _jsonl_classified(_JSON_STRUCT_UPLOADED_AT) + _REJECTS_SELECT),
    "tsv": (_TSV_EVENTS, _TSV_CLASSIFIED + _REJECTS_SELECT),
}
