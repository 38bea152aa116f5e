-- metrics.md "Lifecycle": every month M,
--   eom_active(M) = eom_active(M-1) + new + reactivated - churned.
-- Returns the months where the identity does not hold.
with

project_months as (

    select * from {{ ref('fct_project_months') }}

),

dates as (

    select * from {{ ref('dim_dates') }}

),

months as (

    select distinct month_start_date
    from dates

),

month_counts as (

    select
        month_start_date,
        sum(case when is_eom_active then 1 else 0 end) as eom_active_projects,
        sum(case when lifecycle_status = 'new' then 1 else 0 end) as new_projects,
        sum(case when lifecycle_status = 'reactivated' then 1 else 0 end) as reactivated_projects,
        sum(case when lifecycle_status = 'churned' then 1 else 0 end) as churned_projects
    from project_months
    group by month_start_date

),

series as (

    select
        months.month_start_date,
        coalesce(month_counts.eom_active_projects, 0) as eom_active_projects,
        coalesce(
            lag(month_counts.eom_active_projects) over (order by months.month_start_date), 0
        ) as previous_eom_active_projects,
        coalesce(month_counts.new_projects, 0) as new_projects,
        coalesce(month_counts.reactivated_projects, 0) as reactivated_projects,
        coalesce(month_counts.churned_projects, 0) as churned_projects
    from months
    left join month_counts
        on months.month_start_date = month_counts.month_start_date

)

select *
from series
where
    eom_active_projects
    <> previous_eom_active_projects + new_projects + reactivated_projects - churned_projects
