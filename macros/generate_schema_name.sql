{#-
    Stable schema names without the target prefix: models land in `staging`, `intermediate`,
    `marts`, seeds in `reference`, whatever the target, so a BI tool always finds
    `marts.kpi_values`. A model without a custom schema uses the target's schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
