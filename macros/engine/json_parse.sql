{#-
    json_parse(text_expr) / json_field(doc, path) / json_field_is_array(doc, path): read many
    scalar fields of one small JSON document while parsing it once. json_parse gives the
    engine's parsed form (DuckDB: JSON; PostgreSQL: jsonb, a binary form whose field access
    does not re-read the text); json_field gives the value at `path` (list of keys) as text,
    like json_text. Use json_sub on the original text when a JSON sub-document must be kept as
    text (jsonb re-formats it; the text form is identical on every engine).
-#}
{% macro json_parse(text_expr) -%}
    {{ return(adapter.dispatch('json_parse', 'telemetry_kpis')(text_expr)) }}
{%- endmacro %}

{% macro default__json_parse(text_expr) -%}
    {{ telemetry_kpis.engine_not_implemented('json_parse') }}
{%- endmacro %}

{% macro duckdb__json_parse(text_expr) -%}
    cast({{ text_expr }} as json)
{%- endmacro %}

{% macro postgres__json_parse(text_expr) -%}
    cast({{ text_expr }} as jsonb)
{%- endmacro %}


{% macro json_field(doc, path) -%}
    {{ return(adapter.dispatch('json_field', 'telemetry_kpis')(doc, path)) }}
{%- endmacro %}

{% macro default__json_field(doc, path) -%}
    {{ telemetry_kpis.engine_not_implemented('json_field') }}
{%- endmacro %}

{% macro duckdb__json_field(doc, path) -%}
    json_extract_string({{ doc }}, '$.{{ path | join(".") }}')
{%- endmacro %}

{% macro postgres__json_field(doc, path) -%}
    {%- if path | length == 1 -%}
        ({{ doc }} ->> '{{ path[0] }}')
    {%- else -%}
        ({{ doc }} #>> '{ {{- path | join(",") -}} }')
    {%- endif -%}
{%- endmacro %}


{% macro json_field_is_array(doc, path) -%}
    {{ return(adapter.dispatch('json_field_is_array', 'telemetry_kpis')(doc, path)) }}
{%- endmacro %}

{% macro default__json_field_is_array(doc, path) -%}
    {{ telemetry_kpis.engine_not_implemented('json_field_is_array') }}
{%- endmacro %}

{% macro duckdb__json_field_is_array(doc, path) -%}
    coalesce(json_type({{ doc }}, '$.{{ path | join(".") }}') = 'ARRAY', false)
{%- endmacro %}

{% macro postgres__json_field_is_array(doc, path) -%}
    coalesce(jsonb_typeof({{ doc }} #> '{ {{- path | join(",") -}} }') = 'array', false)
{%- endmacro %}
