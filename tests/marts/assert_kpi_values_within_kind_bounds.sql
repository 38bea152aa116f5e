-- Every kpi_values value lies within the bounds of its metric's kind in the metric registry
-- (var metric_registry, dbt_project.yml): a rate is null or in [0, 1]; a count is >= 0 (never
-- null: assert_kpi_values_publish_every_metric); hours are >= 0 when not null. A ratio has no
-- bound. One row per offending value.
{%- set registry = telemetry_kpis.metric_registry() %}
with

kpi_values as (

    select * from {{ ref('kpi_values') }}

),

registry as (
    {% for metric in registry %}
        select
            '{{ metric.name }}' as metric_name,
            '{{ metric.kind }}' as kind
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

kinded_values as (

    select
        kpi_values.metric_name,
        kpi_values.grain,
        kpi_values.period_start,
        kpi_values.value,
        registry.kind
    from kpi_values
    inner join registry
        on kpi_values.metric_name = registry.metric_name

)

select
    metric_name,
    grain,
    period_start,
    value,
    kind,
    'rate outside [0, 1]' as problem
from kinded_values
where
    kind = 'rate'
    and (value < 0 or value > 1)
union all
select
    metric_name,
    grain,
    period_start,
    value,
    kind,
    kind || ' below 0' as problem
from kinded_values
where
    kind in ('count', 'hours')
    and value < 0
