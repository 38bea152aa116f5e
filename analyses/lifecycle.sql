-- Project lifecycle per month (metrics.md "Lifecycle"), on active status at the month's last
-- day ("EOM-active"; the as-of date for the month in progress):
--   new         EOM-active in M and first active in M
--   retained    EOM-active in M-1 and M
--   reactivated EOM-active in M, not in M-1, not new
--   churned     EOM-active in M-1, not in M
-- The identity eom_active(M) = eom_active(M-1) + new + reactivated - churned holds every
-- month (a dbt data test checks it). The published numbers are kpi_values(metric_name in
-- ('new_active_projects', 'retained_projects', 'reactivated_projects', 'churned_projects')).
with

project_months as (

    select * from {{ ref('fct_project_months') }}

),

monthly as (

    select
        month_start_date,
        sum(case when is_eom_active then 1 else 0 end) as eom_active,
        sum(case when lifecycle_status = 'new' then 1 else 0 end) as new_active,
        sum(case when lifecycle_status = 'retained' then 1 else 0 end) as retained,
        sum(case when lifecycle_status = 'reactivated' then 1 else 0 end) as reactivated,
        sum(case when lifecycle_status = 'churned' then 1 else 0 end) as churned,
        sum(case when fish_segment = 'whale' then 1 else 0 end) as whales,
        sum(case when fish_segment = 'marlin' then 1 else 0 end) as marlins,
        sum(case when fish_segment = 'guppy' then 1 else 0 end) as guppies,
        sum(case when fish_segment = 'none' then 1 else 0 end) as no_pipeline_runs
    from project_months
    group by month_start_date

)

select
    month_start_date,
    new_active,
    reactivated,
    churned,
    retained,
    eom_active,
    whales,
    marlins,
    guppies,
    no_pipeline_runs,
    lag(eom_active, 1, 0) over (order by month_start_date) as eom_active_previous_month
from monthly
order by month_start_date
