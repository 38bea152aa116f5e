{#-
    One row per pipeline: the identity of metrics.md "Pipelines" = hash of the canonical text
    (project | environment hash or '' | spec). The spec is the `blocks` option of a `run`, or
    the sorted distinct `name_hash:command` plugin list for el/elt and for a `run` without it.
-#}
with

runs as (

    select * from {{ ref('fct_pipeline_runs') }}

),

executions as (

    select * from {{ ref('fct_cli_executions') }}

),

pipeline_definitions as (

    -- identical on every run of a pipeline (they are the input of its hash)
    select distinct
        pipeline_id,
        project_id,
        environment_name_hash,
        environment_name,
        is_production_environment,
        pipeline_spec_kind,
        pipeline_spec
    from executions
    where is_pipeline_run

),

run_stats as (

    select
        pipeline_id,
        min(started_at) as first_run_at,
        max(started_at) as last_run_at,
        count(*) as run_count,
        sum(case when is_success then 1 else 0 end) as successful_run_count,
        count(distinct run_date) as run_day_count,
        max(plugin_count) as max_plugin_count
    from runs
    group by pipeline_id

),

final as (

    select
        pipeline_definitions.pipeline_id,
        pipeline_definitions.project_id,
        pipeline_definitions.environment_name_hash,
        pipeline_definitions.environment_name,
        pipeline_definitions.is_production_environment,
        pipeline_definitions.pipeline_spec_kind,
        pipeline_definitions.pipeline_spec,
        run_stats.first_run_at,
        run_stats.last_run_at,
        cast(run_stats.first_run_at as date) as first_run_date,
        cast(run_stats.last_run_at as date) as last_run_date,
        run_stats.run_count,
        run_stats.successful_run_count,
        run_stats.run_day_count,
        run_stats.max_plugin_count
    from pipeline_definitions
    inner join run_stats
        on pipeline_definitions.pipeline_id = run_stats.pipeline_id

)

select * from final
