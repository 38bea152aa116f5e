-- Monthly unique pipelines (metrics.md "Pipelines").
--
-- A pipeline is identified by the hash of (project, environment, spec). The spec of a
-- `meltano run` is the CLI's hash of the blocks as typed (`tap-x target-y dbt:run`, or a job
-- name); for el/elt it is the sorted list of the plugins (name hash and plugin command). So the
-- same blocks in another environment, or with another plugin command, are another pipeline.
-- The published number is kpi_values(metric_name = 'unique_pipelines').
with

pipeline_runs as (

    select * from {{ ref('fct_pipeline_runs') }}

),

pipelines as (

    select * from {{ ref('dim_pipelines') }}

)

select
    cast({{ dbt.date_trunc('month', 'pipeline_runs.run_date') }} as date) as month_start_date,
    count(distinct pipeline_runs.pipeline_id) as unique_pipelines,
    count(distinct case
        when pipelines.pipeline_spec_kind = 'run_blocks' then pipeline_runs.pipeline_id
    end) as unique_run_pipelines,
    count(distinct case
        when pipelines.pipeline_spec_kind = 'plugin_list' then pipeline_runs.pipeline_id
    end) as unique_plugin_list_pipelines,
    count(distinct pipeline_runs.project_id) as projects_running_pipelines
from pipeline_runs
inner join pipelines
    on pipeline_runs.pipeline_id = pipelines.pipeline_id
group by 1
order by 1
