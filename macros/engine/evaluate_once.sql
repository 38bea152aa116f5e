{#-
    evaluate_once(): put at the end of a CTE whose expensive columns (a parsed document, a
    validator, an extracted JSON field) are read several times by the CTEs after it, so that
    each is computed once per row and not once per reference.
    - PostgreSQL inlines a CTE (or subquery) into the query that uses it and copies each
      column's expression into every place that reads it: `cast(text as jsonb)` was repeated in
      every `->>`, and `is_valid_json(contexts)` in every branch of the quarantine reasons (the
      staging model ran 4x slower, int_event_contexts 2.5x). `offset 0` is PostgreSQL's
      documented way to keep a subquery apart; the rows still stream (nothing is stored).
    - DuckDB computes each projected column once: nothing to add.
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

{#- Spark plans each projected column once per row (common subexpressions): nothing to add. -#}
{% macro spark__evaluate_once() -%}
{%- endmacro %}

{#- Snowflake decides itself (common subexpressions of one row are computed once): nothing. -#}
{% macro snowflake__evaluate_once() -%}
{%- endmacro %}
