-- kpi_values_by_segment splits only the (metric, segment kind) pairs of the metric registry
-- (the `segments` of each entry, dbt_project.yml). A registry pair may have no row: a segment
-- value with nothing in a period is absent, and a small warehouse may have no churned project.
{%- set pairs = [] %}
{%- for metric in telemetry_kpis.metric_registry() %}
    {%- for segment in metric.get('segments', []) %}
        {%- do pairs.append((metric.name, segment)) %}
    {%- endfor %}
{%- endfor %}
with

registry as (
    {% for metric_name, segment in pairs %}
        select
            '{{ metric_name }}' as metric_name,
            '{{ segment }}' as segment
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

published as (

    select distinct
        metric_name,
        segment
    from {{ ref('kpi_values_by_segment') }}

)

select
    published.metric_name,
    published.segment,
    'published segment not in the registry' as problem
from published
left join registry
    on
        published.metric_name = registry.metric_name
        and published.segment = registry.segment
where registry.metric_name is null
