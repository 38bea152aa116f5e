{#-
    regex_matches(text_expr, pattern): true when the whole-or-partial POSIX/RE2 regular
    expression `pattern` (a SQL string literal; anchor it with ^...$ for a full match) matches.
    Use only the syntax both engines share: character classes, [0-9], {n,m}, ?, *, +, |, ().
-#}
{% macro regex_matches(text_expr, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'telemetry_kpis')(text_expr, pattern)) }}
{%- endmacro %}

{% macro default__regex_matches(text_expr, pattern) -%}
    {{ telemetry_kpis.engine_not_implemented('regex_matches') }}
{%- endmacro %}

{% macro duckdb__regex_matches(text_expr, pattern) -%}
    regexp_matches({{ text_expr }}, {{ pattern }})
{%- endmacro %}

{% macro postgres__regex_matches(text_expr, pattern) -%}
    ({{ text_expr }} ~ {{ pattern }})
{%- endmacro %}

{% macro spark__regex_matches(text_expr, pattern) -%}
    ({{ text_expr }} rlike {{ pattern }})
{%- endmacro %}

{#- Snowflake: regexp_like and rlike match the WHOLE text (implicitly anchored); regexp_instr
    finds a match anywhere, as regexp_matches and ~ do. -#}
{% macro snowflake__regex_matches(text_expr, pattern) -%}
    (regexp_instr({{ text_expr }}, {{ pattern }}) > 0)
{%- endmacro %}
