-- Every pipeline run's pipeline exists in dim_pipelines (and with the same project).
with

pipeline_runs as (

    select * from {{ ref('fct_pipeline_runs') }}

),

pipelines as (

    select * from {{ ref('dim_pipelines') }}

)

select
    pipeline_runs.execution_id,
    pipeline_runs.pipeline_id,
    pipeline_runs.project_id
from pipeline_runs
left join pipelines
    on pipeline_runs.pipeline_id = pipelines.pipeline_id
where
    pipelines.pipeline_id is null
    or pipelines.project_id <> pipeline_runs.project_id
