{#-
    explode_json_array(json_expr, key, alias): a FROM-clause fragment (starting with
    `cross join lateral`) giving one row per element of the array at `key` of a JSON text
    expression, with columns <alias>.element (JSON text of the element) and
    <alias>.element_index (1-based position). Rows whose value is not an array give no rows.
-#}
{% macro explode_json_array(json_expr, key, alias) -%}
    {{ return(adapter.dispatch('explode_json_array', 'telemetry_kpis')(json_expr, key, alias)) }}
{%- endmacro %}

{% macro default__explode_json_array(json_expr, key, alias) -%}
    {{ telemetry_kpis.engine_not_implemented('explode_json_array') }}
{%- endmacro %}

{% macro duckdb__explode_json_array(json_expr, key, alias) -%}
    cross join lateral (
        select
            cast(json_each.value as varchar) as element,
            cast(json_each.key as integer) + 1 as element_index
        from json_each({{ json_expr }}, '$.{{ key }}') as json_each
        where json_type({{ json_expr }}, '$.{{ key }}') = 'ARRAY'
    ) as {{ alias }}
{%- endmacro %}

{% macro postgres__explode_json_array(json_expr, key, alias) -%}
    cross join lateral (
        select cast({{ json_expr }} as json) -> '{{ key }}' as array_value
    ) as {{ alias }}_source
    cross join lateral (
        select
            cast(elements.element as text) as element,
            cast(elements.element_index as integer) as element_index
        from json_array_elements(
            case
                when json_typeof({{ alias }}_source.array_value) = 'array'
                    then {{ alias }}_source.array_value
                else cast('[]' as json)
            end
        ) with ordinality as elements (element, element_index)
    ) as {{ alias }}
{%- endmacro %}
