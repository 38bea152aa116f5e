{#-
    ordered_string_agg(measure, delimiter_text, order_columns): an aggregate joining the text
    `measure` of a group's rows with `delimiter_text` (a SQL string literal), in the order of
    `order_columns` (a list of column expressions, ascending), so the text is the same on every
    engine (pipeline identities hash it).
    - DuckDB, PostgreSQL and Snowflake: dbt's listagg with its `order by`;
    - Spark: dbt's listagg cannot order there, so the rows are collected as structs (the order
      columns first), sorted with array_sort, and their measure joined.
-#}
{% macro ordered_string_agg(measure, delimiter_text, order_columns) -%}
    {{ return(adapter.dispatch('ordered_string_agg', 'telemetry_kpis')(
        measure, delimiter_text, order_columns
    )) }}
{%- endmacro %}

{% macro default__ordered_string_agg(measure, delimiter_text, order_columns) -%}
    {{ telemetry_kpis.engine_not_implemented('ordered_string_agg') }}
{%- endmacro %}

{% macro duckdb__ordered_string_agg(measure, delimiter_text, order_columns) -%}
    {{ dbt.listagg(measure, delimiter_text, 'order by ' ~ order_columns | join(', ')) }}
{%- endmacro %}

{% macro postgres__ordered_string_agg(measure, delimiter_text, order_columns) -%}
    {{ dbt.listagg(measure, delimiter_text, 'order by ' ~ order_columns | join(', ')) }}
{%- endmacro %}

{% macro snowflake__ordered_string_agg(measure, delimiter_text, order_columns) -%}
    {{ dbt.listagg(measure, delimiter_text, 'order by ' ~ order_columns | join(', ')) }}
{%- endmacro %}

{% macro spark__ordered_string_agg(measure, delimiter_text, order_columns) -%}
    array_join(
        transform(
            array_sort(collect_list(struct(
                {%- for column in order_columns %}
                {{ column }} as sort_key_{{ loop.index }},
                {%- endfor %}
                {{ measure }} as measure
            ))),
            element -> element.measure
        ),
        {{ delimiter_text }}
    )
{%- endmacro %}
