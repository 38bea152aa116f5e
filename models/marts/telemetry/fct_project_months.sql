{#-
    One row per project and calendar month, from the project's first event month to the month
    in which it was first inactive at month end after its last event (capped at the as-of month).
    A project without a row in a month is not EOM-active in it. Rules of metrics.md that live here:
    - EOM-active: active on the month's last day (the as-of date for the month in progress);
    - MAP membership: a qualifying execution in the month and EOM-active;
    - lifecycle: new / retained / reactivated / churned (else 'inactive');
    - fish segment among EOM-active projects, by the month's pipeline runs:
      whale > fish_whale_above_runs, marlin >= fish_marlin_min_runs, guppy >= 1, none = 0.
-#}
with

projects as (

    select * from {{ ref('int_project_attributes') }}

),

activity as (

    select * from {{ ref('fct_project_activity_daily') }}

),

pipeline_runs as (

    select * from {{ ref('fct_pipeline_runs') }}

),

dates as (

    select * from {{ ref('dim_dates') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

months as (

    select
        month_start_date,
        max(month_end_date) as month_end_date,
        max(date_day) as evaluation_date
    from dates
    group by month_start_date

),

project_spans as (

    select
        projects.project_id,
        projects.first_event_date,
        -- the first day the project can be inactive again after its last event
        case
            when
                projects.last_event_date + {{ var('active_window_days') }} + 1
                < as_of.as_of_date
                then projects.last_event_date + {{ var('active_window_days') }} + 1
            else as_of.as_of_date
        end as span_end_date
    from projects
    cross join as_of

),

project_months as (

    select
        project_spans.project_id,
        months.month_start_date,
        months.month_end_date,
        months.evaluation_date
    from project_spans
    inner join months
        on
            project_spans.first_event_date <= months.month_end_date
            and project_spans.span_end_date >= months.month_start_date

),

monthly_activity as (

    select
        project_id,
        month_start_date,
        sum(execution_count) as execution_count,
        sum(execution_event_count) as execution_event_count,
        sum(qualifying_execution_count) as qualifying_execution_count,
        sum(pipeline_run_count) as pipeline_run_count,
        sum(successful_pipeline_run_count) as successful_pipeline_run_count,
        max(case when is_eom_active then 1 else 0 end) = 1 as is_eom_active,
        max(case when is_first_active_day then 1 else 0 end) = 1 as is_first_active_month
    from activity
    group by project_id, month_start_date

),

monthly_pipelines as (

    select
        pipeline_runs.project_id,
        dates.month_start_date,
        count(distinct pipeline_runs.pipeline_id) as unique_pipeline_count
    from pipeline_runs
    inner join dates
        on pipeline_runs.run_date = dates.date_day
    group by pipeline_runs.project_id, dates.month_start_date

),

joined as (

    select
        project_months.project_id,
        project_months.month_start_date,
        project_months.month_end_date,
        project_months.evaluation_date,
        project_months.evaluation_date = project_months.month_end_date as is_complete,
        coalesce(monthly_activity.execution_count, 0) as execution_count,
        coalesce(monthly_activity.execution_event_count, 0) as execution_event_count,
        coalesce(monthly_activity.qualifying_execution_count, 0) as qualifying_execution_count,
        coalesce(monthly_activity.pipeline_run_count, 0) as pipeline_run_count,
        coalesce(
            monthly_activity.successful_pipeline_run_count, 0
        ) as successful_pipeline_run_count,
        coalesce(monthly_pipelines.unique_pipeline_count, 0) as unique_pipeline_count,
        coalesce(monthly_activity.is_eom_active, false) as is_eom_active,
        coalesce(monthly_activity.is_first_active_month, false) as is_first_active_month
    from project_months
    left join monthly_activity
        on
            project_months.project_id = monthly_activity.project_id
            and project_months.month_start_date = monthly_activity.month_start_date
    left join monthly_pipelines
        on
            project_months.project_id = monthly_pipelines.project_id
            and project_months.month_start_date = monthly_pipelines.month_start_date

),

with_previous as (

    select
        *,
        coalesce(
            lag(is_eom_active) over (
                partition by project_id
                order by month_start_date
            ),
            false
        ) as was_eom_active_previous_month
    from joined

),

final as (

    select
        project_id,
        month_start_date,
        month_end_date,
        evaluation_date,
        is_complete,
        execution_count,
        execution_event_count,
        qualifying_execution_count,
        pipeline_run_count,
        successful_pipeline_run_count,
        unique_pipeline_count,
        is_eom_active,
        was_eom_active_previous_month,
        is_first_active_month,
        qualifying_execution_count > 0 as has_qualifying_execution,
        qualifying_execution_count > 0 and is_eom_active as is_monthly_active,
        case
            when is_eom_active and is_first_active_month then 'new'
            when is_eom_active and was_eom_active_previous_month then 'retained'
            when is_eom_active then 'reactivated'
            when was_eom_active_previous_month then 'churned'
            else 'inactive'
        end as lifecycle_status,
        case
            when not is_eom_active then null
            when pipeline_run_count > {{ var('fish_whale_above_runs') }} then 'whale'
            when pipeline_run_count >= {{ var('fish_marlin_min_runs') }} then 'marlin'
            when pipeline_run_count >= 1 then 'guppy'
            else 'none'
        end as fish_segment
    from with_previous

)

select * from final
