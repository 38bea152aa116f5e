-- kpi_values publishes exactly the metric registry (kpi_values.yml, meta.metric_registry):
-- every registry metric at each of its grains, no metric or grain outside it, and counts are
-- never null.
{%- set registry = telemetry_kpis.metric_registry() %}
with

kpi_values as (

    select * from {{ ref('kpi_values') }}

),

registry as (
    {% for metric in registry %}
        {%- for grain in metric.grains %}
            select
                '{{ metric.name }}' as metric_name,
                '{{ grain }}' as grain,
                '{{ metric.kind }}' as kind
            {%- if not loop.last %} union all{% endif %}
        {%- endfor %}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

published as (

    select distinct
        metric_name,
        grain
    from kpi_values

)

select
    registry.metric_name,
    registry.grain,
    'registry metric missing from kpi_values' as problem
from registry
left join published
    on
        registry.metric_name = published.metric_name
        and registry.grain = published.grain
where published.metric_name is null
union all
select
    published.metric_name,
    published.grain,
    'published metric or grain not in the registry' as problem
from published
left join registry
    on
        published.metric_name = registry.metric_name
        and published.grain = registry.grain
where registry.metric_name is null
union all
select
    kpi_values.metric_name,
    kpi_values.grain,
    'null count' as problem
from kpi_values
inner join registry
    on
        kpi_values.metric_name = registry.metric_name
        and kpi_values.grain = registry.grain
where
    kpi_values.value is null
    and registry.kind = 'count'
