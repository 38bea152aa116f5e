{#-
    json_parse(text_expr, paths) / json_field(doc, path, paths):
    read many scalar fields of one small JSON document while parsing it ONCE.

    `paths` is the list of every path (a list of object keys) the model reads from the
    document, declared once at the top of the model; json_parse gives the engine's parsed form:
    - DuckDB: `json_extract_string(text, ['$.a', '$.b.c', ...])`, one parse giving the list of
      every field's text (DuckDB keeps no parsed tree: one json_extract_string per field would
      parse the text once per field);
    - PostgreSQL: jsonb, a binary form whose field access does not re-read the text.
    json_field(doc, path, paths) then gives the value at `path` as text, exactly like
    json_text (strings unquoted, other values as JSON text, null and missing keys as NULL).
    Use json_sub on the original text when a JSON sub-document must be kept as text.
-#}
{% macro json_parse(text_expr, paths) -%}
    {{ return(adapter.dispatch('json_parse', 'telemetry_kpis')(text_expr, paths)) }}
{%- endmacro %}

{% macro default__json_parse(text_expr, paths) -%}
    {{ telemetry_kpis.engine_not_implemented('json_parse') }}
{%- endmacro %}

{% macro duckdb__json_parse(text_expr, paths) -%}
    json_extract_string({{ text_expr }}, {{ telemetry_kpis.json_path_list(paths) }})
{%- endmacro %}

{% macro postgres__json_parse(text_expr, paths) -%}
    cast({{ text_expr }} as jsonb)
{%- endmacro %}


{% macro json_field(doc, path, paths) -%}
    {%- set _checked = telemetry_kpis.json_path_position(path, paths, 'json_field') -%}
    {{ return(adapter.dispatch('json_field', 'telemetry_kpis')(doc, path, paths)) }}
{%- endmacro %}

{% macro default__json_field(doc, path, paths) -%}
    {{ telemetry_kpis.engine_not_implemented('json_field') }}
{%- endmacro %}

{% macro duckdb__json_field(doc, path, paths) -%}
    {{ doc }}[{{ telemetry_kpis.json_path_position(path, paths, 'json_field') }}]
{%- endmacro %}

{% macro postgres__json_field(doc, path, paths) -%}
    {%- if path | length == 1 -%}
        ({{ doc }} ->> '{{ path[0] }}')
    {%- else -%}
        ({{ doc }} #>> '{ {{- path | join(",") -}} }')
    {%- endif -%}
{%- endmacro %}


{#-
    json_parse_subdocs(text_expr, paths) / json_subdoc(doc, path, paths): the same for JSON
    sub-documents kept as JSON text (what json_sub gives: objects and arrays as JSON, strings
    quoted, NULL when missing), parsing the text once for all of them.
    - DuckDB: `json_extract(text, [...])` cast to a list of texts;
    - PostgreSQL: json (not jsonb: json keeps the original text of the sub-document, as
      json_sub does).
-#}
{% macro json_parse_subdocs(text_expr, paths) -%}
    {{ return(adapter.dispatch('json_parse_subdocs', 'telemetry_kpis')(text_expr, paths)) }}
{%- endmacro %}

{% macro default__json_parse_subdocs(text_expr, paths) -%}
    {{ telemetry_kpis.engine_not_implemented('json_parse_subdocs') }}
{%- endmacro %}

{% macro duckdb__json_parse_subdocs(text_expr, paths) -%}
    cast(json_extract({{ text_expr }}, {{ telemetry_kpis.json_path_list(paths) }}) as varchar [])
{%- endmacro %}

{% macro postgres__json_parse_subdocs(text_expr, paths) -%}
    cast({{ text_expr }} as json)
{%- endmacro %}


{% macro json_subdoc(doc, path, paths) -%}
    {%- set _checked = telemetry_kpis.json_path_position(path, paths, 'json_subdoc') -%}
    {{ return(adapter.dispatch('json_subdoc', 'telemetry_kpis')(doc, path, paths)) }}
{%- endmacro %}

{% macro default__json_subdoc(doc, path, paths) -%}
    {{ telemetry_kpis.engine_not_implemented('json_subdoc') }}
{%- endmacro %}

{% macro duckdb__json_subdoc(doc, path, paths) -%}
    {{ doc }}[{{ telemetry_kpis.json_path_position(path, paths, 'json_subdoc') }}]
{%- endmacro %}

{% macro postgres__json_subdoc(doc, path, paths) -%}
    cast({{ doc }} #> '{ {{- path | join(",") -}} }' as text)
{%- endmacro %}


{#- Shared by the macros above and below: the DuckDB path list `['$.a', '$.b.c']`, and the
    1-based position of `path` in `paths` (a compile error naming the macro when missing). -#}
{% macro json_path_list(paths) -%}
    [
        {%- for path in paths -%}
            '$.{{ path | join(".") }}'{{ ", " if not loop.last }}
        {%- endfor -%}
    ]
{%- endmacro %}

{% macro json_path_position(path, paths, caller_name) -%}
    {%- if path not in paths -%}
        {{ exceptions.raise_compiler_error(
            caller_name ~ ": path " ~ path ~ " is not in the paths given to the parse: " ~ paths
        ) }}
    {%- endif -%}
    {{ paths.index(path) + 1 }}
{%- endmacro %}


{#-
    evaluate_once(): put at the end of the CTE that calls json_parse / json_parse_subdocs, so
    that the parsed document is computed once per row and not once per field read from it.
    - PostgreSQL inlines a CTE (or subquery) referenced once into the outer query, copying
      `cast(text as jsonb)` into every `->>` that reads it: each field would parse the text
      again. `offset 0` is PostgreSQL's documented way to keep the subquery apart.
    - DuckDB computes the list once (the outer select only indexes it): nothing to add.
-#}
{% macro evaluate_once() -%}
    {{ return(adapter.dispatch('evaluate_once', 'telemetry_kpis')()) }}
{%- endmacro %}

{% macro default__evaluate_once() -%}
    {{ telemetry_kpis.engine_not_implemented('evaluate_once') }}
{%- endmacro %}

{% macro duckdb__evaluate_once() -%}
{%- endmacro %}

{% macro postgres__evaluate_once() -%}
    offset 0
{%- endmacro %}
