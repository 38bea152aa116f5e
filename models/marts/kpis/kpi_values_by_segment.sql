{#-
    Segments: why a number moved (metrics.md "Segments"). One row per (metric_name, grain,
    period_start, segment, segment_value) with period_end, value and is_complete, on the
    periods of kpi_values. A segment value with nothing in a period has no row (not 0).

    Execution-level metrics are split by each pipeline run's own segments (environment,
    meltano_version, os, ci: computed per execution in int_executions_classified).
    Project-level metrics are split by the project's state at the period's evaluation date
    (its end, or the as-of date for the period in progress): meltano_version and os of the
    project's latest execution up to that day that reports a Meltano version, ci = every
    execution up to that day reported CI; and fish (active_projects only) from
    fct_project_months.
-#}
{%- set run_segments = [
    ('environment', 'environment_segment'),
    ('meltano_version', 'meltano_version_segment'),
    ('os', 'os_segment'),
    ('ci', 'ci_segment'),
] %}
{%- set double = telemetry_kpis.type_double() %}
{%- set run_metrics = [
    ('pipeline_runs', 'cast(pipeline_runs as ' ~ double ~ ')'),
    ('successful_pipeline_runs', 'cast(successful_pipeline_runs as ' ~ double ~ ')'),
    ('unique_pipelines', 'cast(unique_pipelines as ' ~ double ~ ')'),
    (
        'pipeline_success_rate',
        'cast(successful_pipeline_runs as ' ~ double ~ ') / pipeline_runs',
    ),
] %}
{%- set project_segments = ['meltano_version', 'os', 'ci', 'fish'] %}
{%- set lifecycle_metrics = [
    ('new', 'new_active_projects'),
    ('retained', 'retained_projects'),
    ('reactivated', 'reactivated_projects'),
    ('churned', 'churned_projects'),
] %}
with

dates as (

    select * from {{ ref('dim_dates') }}

),

pipeline_runs as (

    select * from {{ ref('fct_pipeline_runs') }}

),

executions as (

    select * from {{ ref('fct_cli_executions') }}

),

projects as (

    select * from {{ ref('dim_projects') }}

),

project_months as (

    select * from {{ ref('fct_project_months') }}

),

as_of as (

    select date_day as as_of_date
    from dates
    where is_as_of_date

),

day_periods as (

    {{ telemetry_kpis.kpi_day_periods('dates') }}

),

-- every pipeline run once per segment kind
run_segments as (
    {% for segment, column in run_segments %}
        select
            run_date,
            pipeline_id,
            is_success,
            '{{ segment }}' as segment,
            {{ column }} as segment_value
        from pipeline_runs
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

run_counts as (

    select
        day_periods.grain,
        day_periods.period_start,
        day_periods.period_end,
        run_segments.segment,
        run_segments.segment_value,
        count(*) as pipeline_runs,
        sum(case when run_segments.is_success then 1 else 0 end) as successful_pipeline_runs,
        count(distinct run_segments.pipeline_id) as unique_pipelines
    from run_segments
    inner join day_periods
        on run_segments.run_date = day_periods.date_day
    group by
        day_periods.grain,
        day_periods.period_start,
        day_periods.period_end,
        run_segments.segment,
        run_segments.segment_value

),

-- each metric of the runs in each segment value (the rate: never null, a row has runs)
run_values as (
    {% for metric, expression in run_metrics %}
        select
            '{{ metric }}' as metric_name,
            grain,
            period_start,
            period_end,
            segment,
            segment_value,
            {{ expression }} as value  -- noqa: RF04
        from run_counts
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

-- the projects each project-level metric counts, with the day their state is read on
project_members as (

    select
        'active_projects' as metric_name,
        'month' as grain,
        month_start_date as period_start,
        month_end_date as period_end,
        evaluation_date,
        project_id,
        fish_segment
    from project_months
    where is_monthly_active
    {%- for status, metric in lifecycle_metrics %}
        union all
        select
            '{{ metric }}' as metric_name,
            'month' as grain,
            month_start_date as period_start,
            month_end_date as period_end,
            evaluation_date,
            project_id,
            null as fish_segment
        from project_months
        where lifecycle_status = '{{ status }}'
    {%- endfor %}
    union all
    select
        'new_projects' as metric_name,
        day_periods.grain,
        day_periods.period_start,
        day_periods.period_end,
        case
            when day_periods.period_end <= as_of.as_of_date then day_periods.period_end
            else as_of.as_of_date
        end as evaluation_date,
        projects.project_id,
        null as fish_segment
    from projects
    inner join day_periods
        on projects.first_event_date = day_periods.date_day
    cross join as_of
    where projects.is_new_project

),

-- the execution that sets a project's version and OS from its day on: the day's last
-- execution (by started_at, then execution_id) that reports a Meltano version
version_days as (

    select
        project_id,
        execution_date,
        meltano_version_segment,
        os_segment,
        row_number() over (
            partition by project_id, execution_date
            order by started_at desc, execution_id desc
        ) as rank_in_day
    from executions
    where meltano_version is not null

),

version_spans as (

    select
        project_id,
        execution_date as valid_from,
        meltano_version_segment,
        os_segment,
        lead(execution_date) over (
            partition by project_id order by execution_date
        ) as valid_until
    from version_days
    where rank_in_day = 1

),

-- CI-only as of a day: an execution up to that day, and none that did not report CI
ci_spans as (

    select
        project_id,
        min(execution_date) as first_execution_date,
        min(case when ci_segment = 'local' then execution_date end) as first_local_date
    from executions
    group by project_id

),

member_states as (

    select
        project_members.metric_name,
        project_members.grain,
        project_members.period_start,
        project_members.period_end,
        project_members.fish_segment,
        coalesce(version_spans.meltano_version_segment, 'unknown') as meltano_version_segment,
        coalesce(version_spans.os_segment, 'unknown') as os_segment,
        case
            when
                ci_spans.first_execution_date <= project_members.evaluation_date
                and (
                    ci_spans.first_local_date is null
                    or ci_spans.first_local_date > project_members.evaluation_date
                )
                then 'ci'
            else 'local'
        end as ci_segment
    from project_members
    left join version_spans
        on
            project_members.project_id = version_spans.project_id
            and project_members.evaluation_date >= version_spans.valid_from
            and (
                version_spans.valid_until is null
                or project_members.evaluation_date < version_spans.valid_until
            )
    left join ci_spans
        on project_members.project_id = ci_spans.project_id

),

member_segments as (
    {% for segment in project_segments %}
        select
            metric_name,
            grain,
            period_start,
            period_end,
            '{{ segment }}' as segment,
            {{ segment }}_segment as segment_value
        from member_states
        {%- if segment == 'fish' %}
            where metric_name = 'active_projects'
        {%- endif %}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

project_values as (

    select
        metric_name,
        grain,
        period_start,
        period_end,
        segment,
        segment_value,
        cast(count(*) as {{ double }}) as value  -- noqa: RF04
    from member_segments
    group by metric_name, grain, period_start, period_end, segment, segment_value

),

segment_values as (

    select * from run_values
    union all
    select * from project_values

),

final as (

    select
        segment_values.metric_name,
        segment_values.grain,
        segment_values.period_start,
        segment_values.period_end,
        segment_values.segment,
        segment_values.segment_value,
        segment_values.value,
        segment_values.period_end <= as_of.as_of_date as is_complete
    from segment_values
    cross join as_of

)

select * from final
