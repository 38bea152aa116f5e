-- kpi_drivers: within one (metric, grain, period, driver kind) the contributions sum to the
-- metric's change against the previous period (kpi_values.change), for every metric but
-- unique_pipelines (segments that overlap); for MAP's lifecycle this is the lifecycle identity
-- with the EOM-active projects MAP leaves out.
with

sums as (

    select
        metric_name,
        grain,
        period_start,
        driver_kind,
        sum(contribution) as contribution_sum,
        count(contribution) as contribution_count
    from {{ ref('kpi_drivers') }}
    where metric_name <> 'unique_pipelines'
    group by metric_name, grain, period_start, driver_kind

)

select
    sums.*,
    kpi_values.change
from sums
inner join {{ ref('kpi_values') }} as kpi_values
    on
        sums.metric_name = kpi_values.metric_name
        and sums.grain = kpi_values.grain
        and sums.period_start = kpi_values.period_start
where
    (kpi_values.change is null and sums.contribution_count > 0)
    or (
        kpi_values.change is not null
        and abs(coalesce(sums.contribution_sum, 0) - kpi_values.change) > 1e-9
    )
