{#-
    explode_json_array(relation, json_column, key, columns): a complete SELECT giving one row
    per element of the JSON array at `key` of the JSON text column `json_column` of
    `relation` (a CTE name), with the `columns` of the relation carried along, plus
    `element` (JSON text of the element) and `element_index` (1-based position). Rows whose
    value at `key` is not an array (missing, null, an object, a string) give no rows. With
    `key` none, the column itself is the JSON array.

    Use it as the whole body of a CTE: `exploded as ({{ explode_json_array(...) }})`.
    Both versions read each JSON text once and stream: no correlated subquery, no join back.
-#}
{% macro explode_json_array(relation, json_column, key, columns) -%}
    {{ return(adapter.dispatch('explode_json_array', 'telemetry_kpis')(
        relation, json_column, key, columns
    )) }}
{%- endmacro %}

{% macro default__explode_json_array(relation, json_column, key, columns) -%}
    {{ telemetry_kpis.engine_not_implemented('explode_json_array') }}
{%- endmacro %}

{#- DuckDB: `$.key[*]` gives the elements as a list (an empty list for a non-array), and
    unnest and generate_subscripts in one select list are zipped (a streaming UNNEST). -#}
{% macro duckdb__explode_json_array(relation, json_column, key, columns) -%}
    select
        {%- for column in columns %}
        {{ column }},
        {%- endfor %}
        unnest(cast(elements as varchar[])) as element,
        generate_subscripts(elements, 1) as element_index
    from (
        select
            {%- for column in columns %}
            {{ column }},
            {%- endfor %}
            json_extract(
                {{ json_column }}, '$
                {%- if key is not none %}.{{ key }}{% endif %}[*]'
            ) as elements
        from {{ relation }}
    ) as arrays
{%- endmacro %}

{#- PostgreSQL: the text is cast to json once (evaluate_once: the array value is read twice
    below); json_array_elements with ordinality. -#}
{% macro postgres__explode_json_array(relation, json_column, key, columns) -%}
    select
        {%- for column in columns %}
        arrays.{{ column }},
        {%- endfor %}
        cast(elements.element as text) as element,
        cast(elements.element_index as integer) as element_index
    from (
        select
            {%- for column in columns %}
            {{ column }},
            {%- endfor %}
            cast({{ json_column }} as json)
            {%- if key is not none %} -> '{{ key }}'{% endif %} as array_value
        from {{ relation }}
        {{ telemetry_kpis.evaluate_once() }}
    ) as arrays
    cross join lateral json_array_elements(
        case
            when json_typeof(arrays.array_value) = 'array' then arrays.array_value
            else cast('[]' as json)
        end
    ) with ordinality as elements (element, element_index)
{%- endmacro %}
