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
    {{ telemetry_kpis.postgres_unnest_json_array(
        relation, json_column, key, columns, 'json',
        ['cast(elements.element as text) as element']
    ) }}
{%- endmacro %}

{#- Spark: the text parsed once as a variant, its array (NULL for a non-array: no rows)
    exploded with posexplode; each element written back as JSON text (object keys sorted). -#}
{% macro spark__explode_json_array(relation, json_column, key, columns) -%}
    {{ telemetry_kpis.spark_posexplode_json_array(
        relation, json_column, key, columns, ['to_json(element_value) as element']
    ) }}
{%- endmacro %}

{#- Spark: one row per element of the array at `key` of `json_column` (parsed once as a
    variant; a value that is not an array gives no rows), with the relation's `columns`,
    `element_index` and the `element_columns` (select expressions on `element_value`, a
    variant). Shared by explode_json_array and explode_json_objects. -#}
{% macro spark_posexplode_json_array(relation, json_column, key, columns, element_columns) -%}
    select
        {%- for column in columns %}
        {{ column }},
        {%- endfor %}
        {%- for element_column in element_columns %}
        {{ element_column }},
        {%- endfor %}
        cast(element_position + 1 as integer) as element_index
    from (
        select
            {%- for column in columns %}
            {{ column }},
            {%- endfor %}
            posexplode(try_variant_get(
                try_parse_json({{ json_column }}),
                '${% if key is not none %}.{{ key }}{% endif %}',
                'array<variant>'
            )) as (element_position, element_value)
        from {{ relation }}
    ) as arrays
{%- endmacro %}

{#- Snowflake: the text parsed once (try_parse_json), then lateral flatten of the array; a value
    that is not an array gives NULL, which flattens to no rows (flatten of an object would give
    its members). `element` is to_json of the element (strings quoted, JSON null as 'null', as
    on the other engines); flatten's index is 0-based. -#}
{% macro snowflake__explode_json_array(relation, json_column, key, columns) -%}
    {{ telemetry_kpis.snowflake_flatten_json_array(
        relation, json_column, key, columns, ['to_json(elements.value) as element']
    ) }}
{%- endmacro %}

{#- Snowflake: one row per element of the array at `key` of `json_column` (parsed once), with
    the relation's `columns`, `element_index` and the `element_columns` (select expressions on
    `elements.value`, a VARIANT). Shared by explode_json_array and explode_json_objects. -#}
{% macro snowflake_flatten_json_array(relation, json_column, key, columns, element_columns) -%}
    select
        {%- for column in columns %}
        arrays.{{ column }},
        {%- endfor %}
        {%- for element_column in element_columns %}
        {{ element_column }},
        {%- endfor %}
        cast(elements.index + 1 as integer) as element_index
    from (
        select
            {%- for column in columns %}
            {{ column }},
            {%- endfor %}
            {{ telemetry_kpis.snowflake_parse_json(json_column) }}
            {%- if key is not none %}:"{{ key }}"{% endif %} as array_value
        from {{ relation }}
    ) as arrays,
        lateral flatten(
            input => case when is_array(arrays.array_value) then arrays.array_value end
        ) as elements
{%- endmacro %}

{#- PostgreSQL: one row per element of the array at `key` of `json_column` parsed ONCE as
    `json_type` (json keeps each element's text, jsonb gives binary elements), with the
    relation's `columns`, `element_index` and the `element_columns` (select expressions on
    `elements.element`). Shared by explode_json_array and explode_json_objects. -#}
{% macro postgres_unnest_json_array(relation, json_column, key, columns, json_type, element_columns) -%}
    select
        {%- for column in columns %}
        arrays.{{ column }},
        {%- endfor %}
        {%- for element_column in element_columns %}
        {{ element_column }},
        {%- endfor %}
        cast(elements.element_index as integer) as element_index
    from (
        select
            {%- for column in columns %}
            {{ column }},
            {%- endfor %}
            cast({{ json_column }} as {{ json_type }})
            {%- if key is not none %} -> '{{ key }}'{% endif %} as array_value
        from {{ relation }}
        {{ telemetry_kpis.evaluate_once() }}
    ) as arrays
    cross join lateral {{ json_type }}_array_elements(
        case
            when {{ json_type }}_typeof(arrays.array_value) = 'array' then arrays.array_value
            else cast('[]' as {{ json_type }})
        end
    ) with ordinality as elements (element, element_index)
{%- endmacro %}
