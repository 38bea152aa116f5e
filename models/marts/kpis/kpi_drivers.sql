{#-
    Drivers of a change (issue "Why did it move?"): for every metric, grain and period of
    kpi_values_by_segment that has a previous period, the change of the metric against that
    period split into parts, one row per (metric_name, grain, period_start, driver_kind, driver).

    - Counts, by segment: contribution = the segment's value minus its value in the previous
      period (an absent segment value is 0). Within one segment kind the contributions sum to
      the metric's change, except for unique_pipelines (a pipeline run in two segments of a
      kind counts in both).
    - pipeline_success_rate, by segment: contribution = the segment's successful runs / all
      runs of the period, minus the same share in the previous period. The rate is the sum of
      those shares, so the contributions sum to its change; `value` and `previous_value` are
      the segment's own success rates.
    - active_projects (MAP), driver_kind `lifecycle`: + new_active_projects +
      reactivated_projects - churned_projects (the lifecycle identity on EOM-active status),
      plus `eom_active_without_execution`: the change in EOM-active projects that are not in MAP
      (active on the last day without a qualifying execution in the month: only in a
      February of 28 days and in the month in progress), with the opposite sign. The parts sum
      to MAP's change.
    share_of_change = contribution / the metric's change (null when the change is 0 or null).
-#}
with

kpi_values as (

    select * from {{ ref('kpi_values') }}

),

segment_values as (

    select * from {{ ref('kpi_values_by_segment') }}

),

project_months as (

    select * from {{ ref('fct_project_months') }}

),

-- each period with the start of the period before it (the series have no gaps)
periods as (

    select
        metric_name,
        grain,
        period_start,
        period_end,
        is_complete,
        change as total_change,
        lag(period_start) over (
            partition by metric_name, grain order by period_start
        ) as previous_period_start
    from kpi_values

),

-- successful runs and runs of each segment, as counts, for the rate's shares
segment_counts as (

    select
        metric_name,
        grain,
        period_start,
        segment,
        segment_value,
        value
    from segment_values
    where metric_name in ('pipeline_runs', 'successful_pipeline_runs')

),

segment_pairs as (

    select
        periods.metric_name,
        periods.grain,
        periods.period_start,
        periods.previous_period_start,
        current_period.segment,
        current_period.segment_value
    from periods
    inner join segment_values as current_period
        on
            periods.metric_name = current_period.metric_name
            and periods.grain = current_period.grain
            and periods.period_start = current_period.period_start
    union
    select
        periods.metric_name,
        periods.grain,
        periods.period_start,
        periods.previous_period_start,
        previous_period.segment,
        previous_period.segment_value
    from periods
    inner join segment_values as previous_period
        on
            periods.metric_name = previous_period.metric_name
            and periods.grain = previous_period.grain
            and periods.previous_period_start = previous_period.period_start

),

segment_changes as (

    select
        segment_pairs.metric_name,
        segment_pairs.grain,
        segment_pairs.period_start,
        segment_pairs.segment as driver_kind,
        segment_pairs.segment_value as driver,
        current_value.value as current_value,
        previous_value.value as previous_value,
        current_successes.value as current_successes,
        previous_successes.value as previous_successes,
        current_runs.value as current_total_runs,
        previous_runs.value as previous_total_runs
    from segment_pairs
    left join segment_values as current_value
        on
            segment_pairs.metric_name = current_value.metric_name
            and segment_pairs.grain = current_value.grain
            and segment_pairs.period_start = current_value.period_start
            and segment_pairs.segment = current_value.segment
            and segment_pairs.segment_value = current_value.segment_value
    left join segment_values as previous_value
        on
            segment_pairs.metric_name = previous_value.metric_name
            and segment_pairs.grain = previous_value.grain
            and segment_pairs.previous_period_start = previous_value.period_start
            and segment_pairs.segment = previous_value.segment
            and segment_pairs.segment_value = previous_value.segment_value
    left join segment_counts as current_successes
        on
            segment_pairs.metric_name = 'pipeline_success_rate'
            and current_successes.metric_name = 'successful_pipeline_runs'
            and segment_pairs.grain = current_successes.grain
            and segment_pairs.period_start = current_successes.period_start
            and segment_pairs.segment = current_successes.segment
            and segment_pairs.segment_value = current_successes.segment_value
    left join segment_counts as previous_successes
        on
            segment_pairs.metric_name = 'pipeline_success_rate'
            and previous_successes.metric_name = 'successful_pipeline_runs'
            and segment_pairs.grain = previous_successes.grain
            and segment_pairs.previous_period_start = previous_successes.period_start
            and segment_pairs.segment = previous_successes.segment
            and segment_pairs.segment_value = previous_successes.segment_value
    left join kpi_values as current_runs
        on
            segment_pairs.metric_name = 'pipeline_success_rate'
            and current_runs.metric_name = 'pipeline_runs'
            and segment_pairs.grain = current_runs.grain
            and segment_pairs.period_start = current_runs.period_start
    left join kpi_values as previous_runs
        on
            segment_pairs.metric_name = 'pipeline_success_rate'
            and previous_runs.metric_name = 'pipeline_runs'
            and segment_pairs.grain = previous_runs.grain
            and segment_pairs.previous_period_start = previous_runs.period_start

),

segment_drivers as (

    select
        metric_name,
        grain,
        period_start,
        driver_kind,
        driver,
        case
            when metric_name = 'pipeline_success_rate' then current_value
            else coalesce(current_value, 0)
        end as value,  -- noqa: RF04
        case
            when metric_name = 'pipeline_success_rate' then previous_value
            else coalesce(previous_value, 0)
        end as previous_value,
        case
            when metric_name = 'pipeline_success_rate'
                then
                    coalesce(current_successes, 0) / nullif(current_total_runs, 0)
                    - coalesce(previous_successes, 0) / nullif(previous_total_runs, 0)
            else coalesce(current_value, 0) - coalesce(previous_value, 0)
        end as contribution
    from segment_changes

),

-- MAP's lifecycle parts, from the published lifecycle counts
lifecycle_counts as (

    select
        month_start_date as period_start,
        cast(
            sum(case when is_eom_active and not is_monthly_active then 1 else 0 end)
            as {{ telemetry_kpis.type_double() }}
        ) as eom_active_without_execution
    from project_months
    group by month_start_date

),

lifecycle_parts as (

    select
        kpi_values.metric_name as driver,
        kpi_values.period_start,
        kpi_values.value,
        case
            when kpi_values.metric_name = 'churned_projects' then -kpi_values.value
            else kpi_values.value
        end as contribution
    from kpi_values
    where
        kpi_values.grain = 'month'
        and kpi_values.metric_name in (
            'new_active_projects', 'reactivated_projects', 'churned_projects'
        )

),

lifecycle_drivers as (

    select
        'active_projects' as metric_name,
        'month' as grain,
        periods.period_start,
        'lifecycle' as driver_kind,
        lifecycle_parts.driver,
        lifecycle_parts.value,
        cast(null as {{ telemetry_kpis.type_double() }}) as previous_value,
        lifecycle_parts.contribution
    from periods
    inner join lifecycle_parts
        on periods.period_start = lifecycle_parts.period_start
    where
        periods.metric_name = 'active_projects'
        and periods.previous_period_start is not null
    union all
    select
        'active_projects' as metric_name,
        'month' as grain,
        periods.period_start,
        'lifecycle' as driver_kind,
        'eom_active_without_execution' as driver,
        coalesce(current_gap.eom_active_without_execution, 0) as value,  -- noqa: RF04
        coalesce(previous_gap.eom_active_without_execution, 0) as previous_value,
        coalesce(previous_gap.eom_active_without_execution, 0)
        - coalesce(current_gap.eom_active_without_execution, 0) as contribution
    from periods
    left join lifecycle_counts as current_gap
        on periods.period_start = current_gap.period_start
    left join lifecycle_counts as previous_gap
        on periods.previous_period_start = previous_gap.period_start
    where
        periods.metric_name = 'active_projects'
        and periods.previous_period_start is not null

),

drivers as (

    select * from segment_drivers
    union all
    select * from lifecycle_drivers

),

final as (

    select
        drivers.metric_name,
        drivers.grain,
        drivers.period_start,
        periods.period_end,
        periods.is_complete,
        drivers.driver_kind,
        drivers.driver,
        drivers.value,
        drivers.previous_value,
        drivers.contribution,
        periods.total_change,
        drivers.contribution / nullif(periods.total_change, 0) as share_of_change
    from drivers
    inner join periods
        on
            drivers.metric_name = periods.metric_name
            and drivers.grain = periods.grain
            and drivers.period_start = periods.period_start
    where periods.previous_period_start is not null

)

select * from final
