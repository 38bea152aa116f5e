{#-
    regex_extract(text_expr, pattern): the first substring of `text_expr` that the regular
    expression `pattern` (a SQL string literal, no capture groups) matches, or null when it does
    not match (or the text is null). Same shared syntax as regex_matches.
-#}
{% macro regex_extract(text_expr, pattern) -%}
    {{ return(adapter.dispatch('regex_extract', 'telemetry_kpis')(text_expr, pattern)) }}
{%- endmacro %}

{% macro default__regex_extract(text_expr, pattern) -%}
    {{ telemetry_kpis.engine_not_implemented('regex_extract') }}
{%- endmacro %}

{#- DuckDB gives '' when nothing matches; a match is never empty for the patterns used here. -#}
{% macro duckdb__regex_extract(text_expr, pattern) -%}
    nullif(regexp_extract({{ text_expr }}, {{ pattern }}), '')
{%- endmacro %}

{% macro postgres__regex_extract(text_expr, pattern) -%}
    substring({{ text_expr }} from {{ pattern }})
{%- endmacro %}

{#- Spark gives '' when nothing matches, as DuckDB does. -#}
{% macro spark__regex_extract(text_expr, pattern) -%}
    nullif(regexp_extract({{ text_expr }}, {{ pattern }}, 0), '')
{%- endmacro %}

{#- Snowflake: regexp_substr gives NULL when nothing matches. -#}
{% macro snowflake__regex_extract(text_expr, pattern) -%}
    regexp_substr({{ text_expr }}, {{ pattern }})
{%- endmacro %}
