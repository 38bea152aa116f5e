-- Monthly pipeline runs (metrics.md "Pipelines").
--
-- A pipeline run is a `meltano run`, `meltano el` or `meltano elt` execution, except a `run`
-- that named no blocks. Success is not required; successful_pipeline_runs counts exit code 0.
-- `meltano schedule run` is not itself a run: its child process (the `run`) is.
-- The published numbers are kpi_values(metric_name in ('pipeline_runs',
-- 'successful_pipeline_runs', 'pipeline_success_rate')) at grains day, week and month.
with

pipeline_runs as (

    select * from {{ ref('fct_pipeline_runs') }}

)

select
    cast({{ dbt.date_trunc('month', 'run_date') }} as date) as month_start_date,
    command,
    coalesce(environment_name, 'unknown or none') as environment_name,
    count(*) as pipeline_runs,
    sum(case when is_success then 1 else 0 end) as successful_pipeline_runs,
    sum(case when is_child_process then 1 else 0 end) as runs_started_by_a_schedule,
    count(distinct project_id) as projects
from pipeline_runs
group by 1, 2, 3
order by 1, 2, 3
