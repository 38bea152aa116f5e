-- Monthly active projects (MAP), the north-star KPI (metrics.md "Activity").
--
-- A project is in MAP for month M when
--   1. it ran at least one qualifying execution in M: an execution event
--      (invoke, el, elt, run, test, ui) on a day the project was at least 7 days old, and its
--      project ID is not a throw-away `random` one; and
--   2. it is still active on the last day of M (the as-of date for the month in progress):
--      a qualifying execution in the 28 days up to that day.
-- The published number is kpi_values(metric_name = 'active_projects', grain = 'month'); this
-- query rebuilds it from the project-month mart so each project behind it can be listed.
with

project_months as (

    select * from {{ ref('fct_project_months') }}

),

published as (

    select
        period_start,
        value as published_active_projects,
        is_complete
    from {{ ref('kpi_values') }}
    where
        metric_name = 'active_projects'
        and grain = 'month'

),

monthly as (

    select
        month_start_date,
        evaluation_date,
        sum(case when has_qualifying_execution then 1 else 0 end)
            as projects_with_qualifying_execution,
        sum(case when is_eom_active then 1 else 0 end) as eom_active_projects,
        sum(case when is_monthly_active then 1 else 0 end) as monthly_active_projects
    from project_months
    group by month_start_date, evaluation_date

)

select
    monthly.month_start_date,
    monthly.evaluation_date,
    published.is_complete,
    monthly.projects_with_qualifying_execution,
    monthly.eom_active_projects,
    monthly.monthly_active_projects,
    published.published_active_projects
from monthly
left join published
    on monthly.month_start_date = published.period_start
order by monthly.month_start_date
