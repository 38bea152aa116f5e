{#-
    One row per project and UTC day, from the project's first event day to the earlier of the
    as-of date and (last event day + active_window_days): after that the project is inactive on
    every day, so those rows would carry nothing. The active-status rule lives here:
    active on day D <=> a qualifying execution on some day E with D - active_window_days <= E <= D.
    The spine is dense per project, so the window is a rows-frame (no correlated subquery).
-#}
with

projects as (

    select * from {{ ref('int_project_attributes') }}

),

executions as (

    select * from {{ ref('int_executions_classified') }}

),

dates as (

    select * from {{ ref('dim_dates') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

project_spans as (

    select
        projects.project_id,
        projects.first_event_date,
        case
            when projects.last_event_date + {{ var('active_window_days') }} < as_of.as_of_date
                then projects.last_event_date + {{ var('active_window_days') }}
            else as_of.as_of_date
        end as span_end_date
    from projects
    cross join as_of

),

project_days as (

    select
        project_spans.project_id,
        dates.date_day,
        dates.month_start_date,
        dates.is_month_evaluation_date
    from project_spans
    inner join dates
        on
            project_spans.first_event_date <= dates.date_day
            and project_spans.span_end_date >= dates.date_day

),

daily_executions as (

    select
        project_id,
        execution_date,
        count(*) as execution_count,
        sum(case when is_execution_event then 1 else 0 end) as execution_event_count,
        sum(case when is_qualifying_execution then 1 else 0 end) as qualifying_execution_count,
        sum(case when is_pipeline_run then 1 else 0 end) as pipeline_run_count,
        sum(
            case when is_pipeline_run and is_success then 1 else 0 end
        ) as successful_pipeline_run_count
    from executions
    group by project_id, execution_date

),

joined as (

    select
        project_days.project_id,
        project_days.date_day,
        project_days.month_start_date,
        project_days.is_month_evaluation_date,
        coalesce(daily_executions.execution_count, 0) as execution_count,
        coalesce(daily_executions.execution_event_count, 0) as execution_event_count,
        coalesce(daily_executions.qualifying_execution_count, 0) as qualifying_execution_count,
        coalesce(daily_executions.pipeline_run_count, 0) as pipeline_run_count,
        coalesce(
            daily_executions.successful_pipeline_run_count, 0
        ) as successful_pipeline_run_count
    from project_days
    left join daily_executions
        on
            project_days.project_id = daily_executions.project_id
            and project_days.date_day = daily_executions.execution_date

),

windowed as (

    select
        *,
        qualifying_execution_count > 0 as has_qualifying_execution,
        max(qualifying_execution_count) over (
            partition by project_id
            order by date_day
            rows between {{ var('active_window_days') }} preceding and current row
        ) > 0 as is_active
    from joined

),

final as (

    select
        project_id,
        date_day,
        month_start_date,
        is_month_evaluation_date,
        execution_count,
        execution_event_count,
        qualifying_execution_count,
        pipeline_run_count,
        successful_pipeline_run_count,
        has_qualifying_execution,
        is_active,
        -- EOM-active: active on the day a month is evaluated on (its last day, or the as-of
        -- date while in progress)
        is_active and is_month_evaluation_date as is_eom_active,
        is_active
        and not coalesce(
            max(case when is_active then 1 else 0 end) over (
                partition by project_id
                order by date_day
                rows between unbounded preceding and 1 preceding
            ) = 1,
            false
        ) as is_first_active_day
    from windowed

)

select * from final
