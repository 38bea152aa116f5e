{#-
    not_materialized(): the hint that makes a CTE inline (each reference is a scan of only the
    columns it needs, not a copy) where the engine has it and may otherwise materialise a CTE
    referenced more than once: `not materialized` on DuckDB and PostgreSQL. Spark and Snowflake
    always inline (or decide themselves) and have no such syntax: nothing.
    Use: `with name as {{ telemetry_kpis.not_materialized() }} ( ... )`.
-#}
{% macro not_materialized() -%}
    {{ return(adapter.dispatch('not_materialized', 'telemetry_kpis')()) }}
{%- endmacro %}

{% macro default__not_materialized() -%}
    {{ telemetry_kpis.engine_not_implemented('not_materialized') }}
{%- endmacro %}

{% macro duckdb__not_materialized() -%}
    not materialized
{%- endmacro %}

{% macro postgres__not_materialized() -%}
    not materialized
{%- endmacro %}

{% macro spark__not_materialized() -%}
{%- endmacro %}

{% macro snowflake__not_materialized() -%}
{%- endmacro %}
