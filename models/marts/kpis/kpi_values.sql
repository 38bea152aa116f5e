{#-
    The publishing contract (metrics.md "Publishing contract"): one row per
    (metric_name, grain, period_start) with period_end, value and is_complete
    (period_end <= as-of date). Every series runs from the first event's period to the as-of
    period with no gaps: counts are 0 where nothing happened; a rate without a denominator is
    null (the row still exists).
-#}
{%- set double = telemetry_kpis.type_double() %}
with

dates as (

    select * from {{ ref('dim_dates') }}

),

pipeline_runs as (

    select * from {{ ref('fct_pipeline_runs') }}

),

projects as (

    select * from {{ ref('dim_projects') }}

),

activity as (

    select * from {{ ref('fct_project_activity_daily') }}

),

project_months as (

    select * from {{ ref('fct_project_months') }}

),

retention_cohorts as (

    select * from {{ ref('fct_retention_cohorts') }}

),

load_quality as (

    select * from {{ ref('fct_load_quality_daily') }}

),

-- the spine ends on the as-of date
as_of as (

    select date_day as as_of_date
    from dates
    where is_as_of_date

),

-- every day of the spine mapped to its period at each grain
day_periods as (

    {{ telemetry_kpis.kpi_day_periods('dates') }}

),

periods as (

    select distinct
        grain,
        period_start,
        period_end
    from day_periods

),

run_values as (

    select
        day_periods.grain,
        day_periods.period_start,
        count(*) as pipeline_runs,
        sum(case when pipeline_runs.is_success then 1 else 0 end) as successful_pipeline_runs,
        count(distinct pipeline_runs.pipeline_id) as unique_pipelines,
        sum(
            case when pipeline_runs.is_production_environment then 1 else 0 end
        ) as production_pipeline_runs
    from pipeline_runs
    inner join day_periods
        on pipeline_runs.run_date = day_periods.date_day
    group by day_periods.grain, day_periods.period_start

),

new_project_values as (

    select
        day_periods.grain,
        day_periods.period_start,
        count(*) as new_projects
    from projects
    inner join day_periods
        on projects.first_event_date = day_periods.date_day
    where projects.is_new_project
    group by day_periods.grain, day_periods.period_start

),

daily_active_values as (

    select
        date_day as period_start,
        count(*) as daily_active_projects
    from activity
    where is_active
    group by date_day

),

-- projects with a qualifying execution in the period (metrics.md "Stickiness")
executing_values as (

    select
        day_periods.grain,
        day_periods.period_start,
        count(distinct activity.project_id) as executing_projects
    from activity
    inner join day_periods
        on activity.date_day = day_periods.date_day
    where activity.has_qualifying_execution
    group by day_periods.grain, day_periods.period_start

),

month_values as (

    select
        month_start_date as period_start,
        sum(case when is_monthly_active then 1 else 0 end) as active_projects,
        sum(case when lifecycle_status = 'new' then 1 else 0 end) as new_active_projects,
        sum(case when lifecycle_status = 'retained' then 1 else 0 end) as retained_projects,
        sum(
            case when lifecycle_status = 'reactivated' then 1 else 0 end
        ) as reactivated_projects,
        sum(case when lifecycle_status = 'churned' then 1 else 0 end) as churned_projects
    from project_months
    group by month_start_date

),

-- month-1 retention of new projects, observed in month M: of the projects whose first active
-- day is in M-1 (the cohort), the share EOM-active in M
retention_values as (

    select
        month_start_date as period_start,
        cohort_size as previous_month_cohort_projects,
        eom_active_project_count as previous_month_cohort_retained_projects
    from retention_cohorts
    where months_since_first_active = 1

),

period_values as (

    select
        periods.grain,
        periods.period_start,
        periods.period_end,
        load_quality.bad_rows,
        load_quality.loaded_rows,
        load_quality.data_freshness_hours,
        retention_values.previous_month_cohort_projects,
        retention_values.previous_month_cohort_retained_projects,
        coalesce(run_values.pipeline_runs, 0) as pipeline_runs,
        coalesce(run_values.successful_pipeline_runs, 0) as successful_pipeline_runs,
        coalesce(run_values.unique_pipelines, 0) as unique_pipelines,
        coalesce(run_values.production_pipeline_runs, 0) as production_pipeline_runs,
        coalesce(new_project_values.new_projects, 0) as new_projects,
        coalesce(daily_active_values.daily_active_projects, 0) as daily_active_projects,
        coalesce(executing_values.executing_projects, 0) as executing_projects,
        coalesce(month_values.active_projects, 0) as active_projects,
        coalesce(month_values.new_active_projects, 0) as new_active_projects,
        coalesce(month_values.retained_projects, 0) as retained_projects,
        coalesce(month_values.reactivated_projects, 0) as reactivated_projects,
        coalesce(month_values.churned_projects, 0) as churned_projects
    from periods
    left join run_values
        on
            periods.grain = run_values.grain
            and periods.period_start = run_values.period_start
    left join new_project_values
        on
            periods.grain = new_project_values.grain
            and periods.period_start = new_project_values.period_start
    left join executing_values
        on
            periods.grain = executing_values.grain
            and periods.period_start = executing_values.period_start
    left join daily_active_values
        on
            periods.grain = 'day'
            and periods.period_start = daily_active_values.period_start
    left join month_values
        on
            periods.grain = 'month'
            and periods.period_start = month_values.period_start
    left join retention_values
        on
            periods.grain = 'month'
            and periods.period_start = retention_values.period_start
    left join load_quality
        on
            periods.grain = 'day'
            and periods.period_start = load_quality.date_day

),

-- one column per registry metric, named as the metric
metric_columns as (

    select
        *,
        cast(successful_pipeline_runs as {{ double }})
        / nullif(pipeline_runs, 0) as pipeline_success_rate,
        cast(production_pipeline_runs as {{ double }})
        / nullif(pipeline_runs, 0) as prod_pipeline_run_share,
        cast(previous_month_cohort_retained_projects as {{ double }})
        / nullif(previous_month_cohort_projects, 0) as new_project_retention_rate,
        cast(bad_rows as {{ double }}) / nullif(loaded_rows, 0) as bad_event_share,
        case
            when grain = 'day'
                then
                    cast(executing_projects as {{ double }})
                    / nullif(daily_active_projects, 0)
        end as daily_stickiness
    from period_values

),

-- stickiness (metrics.md "Stickiness"): the daily ratio; for a month, the mean of its
-- non-null daily values up to the as-of date (the spine ends there). The sum is exact
-- (decimal): a parallel sum of doubles depends on the order rows arrive in, and the same
-- input must give the same value on every run.
monthly_stickiness as (

    select
        dates.month_start_date as period_start,
        cast(
            sum(cast(metric_columns.daily_stickiness as decimal(38, 18))) as {{ double }}
        )
        / nullif(count(metric_columns.daily_stickiness), 0) as monthly_stickiness
    from metric_columns
    inner join dates
        on metric_columns.period_start = dates.date_day
    where metric_columns.grain = 'day'
    group by dates.month_start_date

),

metric_columns_with_stickiness as (

    select
        metric_columns.*,
        case
            when metric_columns.grain = 'day' then metric_columns.daily_stickiness
            when metric_columns.grain = 'month' then monthly_stickiness.monthly_stickiness
        end as stickiness
    from metric_columns
    left join monthly_stickiness
        on
            metric_columns.grain = 'month'
            and metric_columns.period_start = monthly_stickiness.period_start

),

-- one row per registry metric and grain; `value` is the column name of the publishing
-- contract (hence the noqa below)
metric_values as (
    {% for metric in telemetry_kpis.metric_registry() %}
        select
            '{{ metric.name }}' as metric_name,
            grain,
            period_start,
            period_end,
            cast({{ metric.name }} as {{ double }}) as value  -- noqa: RF04
        from metric_columns_with_stickiness
        where grain in ({{ telemetry_kpis.quoted_list(metric.grains) }})
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

-- period over period (metrics.md "Period over period"): the series have no gaps, so the
-- row before is the previous period; the year-ago period is looked up by its start
with_previous as (

    select
        metric_name,
        grain,
        period_start,
        period_end,
        value,
        lag(value) over (
            partition by metric_name, grain order by period_start
        ) as previous_value,
        {{ telemetry_kpis.year_ago_period_start('grain', 'period_start') }} as year_ago_start
    from metric_values

),

final as (

    select
        with_previous.metric_name,
        with_previous.grain,
        with_previous.period_start,
        with_previous.period_end,
        with_previous.value,
        with_previous.previous_value,
        year_ago.value as year_ago_value,
        with_previous.period_end <= as_of.as_of_date as is_complete,
        -- `change` is the published name (metrics.md "Period over period")
        with_previous.value - with_previous.previous_value as change,  -- noqa: RF04
        (with_previous.value - with_previous.previous_value)
        / nullif(abs(with_previous.previous_value), 0) as change_pct,
        (with_previous.value - year_ago.value)
        / nullif(abs(year_ago.value), 0) as yoy_change_pct
    from with_previous
    cross join as_of
    left join metric_values as year_ago
        on
            with_previous.metric_name = year_ago.metric_name
            and with_previous.grain = year_ago.grain
            and with_previous.year_ago_start = year_ago.period_start

)

select * from final
