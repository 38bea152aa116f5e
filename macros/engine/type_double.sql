{#-
    type_double(): the SQL name of an 8-byte floating point type, the type of every published
    value: `double precision` on DuckDB and PostgreSQL (DuckDB's `float` is 4 bytes, so dbt's
    type_float would change values there), `double` on Spark and Snowflake.
-#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'telemetry_kpis')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    {{ telemetry_kpis.engine_not_implemented('type_double') }}
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double precision
{%- endmacro %}

{% macro postgres__type_double() -%}
    double precision
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}

{% macro snowflake__type_double() -%}
    double
{%- endmacro %}
