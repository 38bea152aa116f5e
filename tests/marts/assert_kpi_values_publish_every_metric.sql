-- kpi_values carries every metric of the contract (metrics.md "Publishing contract") at
-- every grain of its table, and counts are never null.
with

kpi_values as (

    select * from {{ ref('kpi_values') }}

),

{%- set contract = {
    'active_projects': ['month'],
    'daily_active_projects': ['day'],
    'pipeline_runs': ['day', 'week', 'month'],
    'successful_pipeline_runs': ['day', 'week', 'month'],
    'unique_pipelines': ['day', 'week', 'month'],
    'new_projects': ['day', 'week', 'month'],
    'pipeline_success_rate': ['day', 'week', 'month'],
    'new_active_projects': ['month'],
    'retained_projects': ['month'],
    'reactivated_projects': ['month'],
    'churned_projects': ['month'],
    'bad_event_share': ['day'],
} %}

expected as (
    {% for metric_name, grains in contract.items() %}
        {%- for grain in grains %}
            select
                '{{ metric_name }}' as metric_name,
                '{{ grain }}' as grain
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
    expected.metric_name,
    expected.grain,
    'metric missing from kpi_values' as problem
from expected
left join published
    on
        expected.metric_name = published.metric_name
        and expected.grain = published.grain
where published.metric_name is null
union all
select
    metric_name,
    grain,
    'null count' as problem
from kpi_values
where
    value is null
    and metric_name not in (
        'pipeline_success_rate',
        'prod_pipeline_run_share',
        'bad_event_share',
        'new_project_retention_rate'
    )
