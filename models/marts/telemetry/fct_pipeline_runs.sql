{#-
    One row per pipeline run (metrics.md "Pipelines"): a `run`, `el` or `elt` execution up to
    the as-of date, except a `run` that named no blocks. Success is not required.
-#}
with

executions as (

    select * from {{ ref('int_executions_classified') }}

),

final as (

    select
        execution_id,
        pipeline_id,
        project_id,
        command,
        started_at,
        finished_at,
        execution_date as run_date,
        exit_code,
        is_success,
        environment_name_hash,
        environment_name,
        is_production_environment,
        is_ci_environment,
        environment_segment,
        meltano_version_segment,
        os_segment,
        ci_segment,
        parent_execution_id,
        plugin_count,
        is_qualifying_execution,
        meltano_version,
        parent_execution_id is not null as is_child_process
    from executions
    where is_pipeline_run

)

select * from final
