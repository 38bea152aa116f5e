-- Daily active projects (metrics.md "Activity").
--
-- A project is active on day D when it ran a qualifying execution on some day E with
-- D - 28 <= E <= D (the window is var active_window_days). The published number is
-- kpi_values(metric_name = 'daily_active_projects', grain = 'day'); this query rebuilds it
-- from the activity mart, with how many projects ran a qualifying execution that very day.
with

activity as (

    select * from {{ ref('fct_project_activity_daily') }}

),

published as (

    select
        period_start as date_day,
        value as published_daily_active_projects
    from {{ ref('kpi_values') }}
    where metric_name = 'daily_active_projects'

),

daily as (

    select
        date_day,
        sum(case when is_active then 1 else 0 end) as daily_active_projects,
        sum(case when has_qualifying_execution then 1 else 0 end) as projects_executing_that_day
    from activity
    group by date_day

)

select
    published.date_day,
    published.published_daily_active_projects,
    coalesce(daily.daily_active_projects, 0) as daily_active_projects,
    coalesce(daily.projects_executing_that_day, 0) as projects_executing_that_day
from published
left join daily
    on published.date_day = daily.date_day
order by published.date_day
