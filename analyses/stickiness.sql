-- Executing projects and stickiness (metrics.md "Stickiness").
--
-- Executing projects: projects with a qualifying execution in the period. Stickiness (day) =
-- executing projects of the day / daily active projects of the day (active = a qualifying
-- execution in the 28 days up to the day), null when none is active; (month) = the mean of the
-- month's non-null daily values up to the as-of date. The published numbers are
-- kpi_values(metric_name in ('executing_projects', 'stickiness')); this query rebuilds the
-- monthly ones from the activity mart, beside the published values.
with

activity as (

    select * from {{ ref('fct_project_activity_daily') }}

),

dates as (

    select * from {{ ref('dim_dates') }}

),

published as (

    select
        period_start as month_start_date,
        value as published_stickiness
    from {{ ref('kpi_values') }}
    where metric_name = 'stickiness' and grain = 'month'

),

daily as (

    select
        dates.date_day,
        dates.month_start_date,
        sum(case when activity.has_qualifying_execution then 1 else 0 end) as executing,
        sum(case when activity.is_active then 1 else 0 end) as active
    from dates
    left join activity
        on dates.date_day = activity.date_day
    group by dates.date_day, dates.month_start_date

),

monthly_executing as (

    select
        month_start_date,
        count(distinct project_id) as executing_projects
    from activity
    where has_qualifying_execution
    group by month_start_date

),

monthly_stickiness as (

    select
        month_start_date,
        avg(cast(executing as double precision) / nullif(active, 0)) as stickiness
    from daily
    group by month_start_date

)

select
    published.month_start_date,
    monthly_stickiness.stickiness,
    published.published_stickiness,
    coalesce(monthly_executing.executing_projects, 0) as executing_projects
from published
left join monthly_executing
    on published.month_start_date = monthly_executing.month_start_date
left join monthly_stickiness
    on published.month_start_date = monthly_stickiness.month_start_date
order by published.month_start_date
