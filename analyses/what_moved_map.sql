-- What moved MAP last month (kpi_drivers).
--
-- The change of monthly active projects in the latest complete month against the month
-- before, split two ways: the lifecycle identity (+ new active + reactivated - churned, and the
-- EOM-active projects MAP leaves out) and each segment kind (Meltano version, OS, CI, fish),
-- whose parts each sum to the change. Biggest parts first, within each kind.
with

drivers as (

    select * from {{ ref('kpi_drivers') }}

),

kpi_values as (

    select * from {{ ref('kpi_values') }}

),

last_complete_month as (

    select max(period_start) as month_start_date
    from kpi_values
    where
        metric_name = 'active_projects'
        and is_complete

)

select
    drivers.period_start as month_start_date,
    drivers.driver_kind,
    drivers.driver,
    drivers.value,
    drivers.previous_value,
    drivers.contribution,
    drivers.share_of_change,
    drivers.total_change
from drivers
inner join last_complete_month
    on drivers.period_start = last_complete_month.month_start_date
where drivers.metric_name = 'active_projects'
order by drivers.driver_kind asc, abs(drivers.contribution) desc, drivers.driver asc
