{#-
    The metric registry (var `metric_registry`, dbt_project.yml) as a list of dicts: name,
    label, grains, kind, unit, direction, definition, source, analysis, contract.
-#}
{% macro metric_registry() -%}
    {%- set registry = var('metric_registry', []) -%}
    {%- if not registry -%}
        {{ exceptions.raise_compiler_error(
            'var metric_registry is empty: dbt_project.yml must list the published metrics'
        ) }}
    {%- endif -%}
    {{ return(registry) }}
{%- endmacro %}

{#- 'a', 'b', 'c': a list of strings as SQL literals, for an `in (...)` filter. -#}
{% macro quoted_list(values) -%}
    {%- for value in values -%}
        '{{ value }}'{% if not loop.last %}, {% endif %}
    {%- endfor -%}
{%- endmacro %}
