{#-
    One row per Meltano CLI execution (process) up to the as-of date, with the activity and
    pipeline flags of metrics.md (from int_executions_classified, where the rules live).
-#}
with

executions as (

    select * from {{ ref('int_executions_classified') }}

),

final as (

    select
        executions.execution_id,
        executions.project_id,
        executions.is_legacy_struct,
        executions.command,
        executions.sub_command,
        executions.started_at,
        executions.finished_at,
        executions.execution_date,
        executions.exit_code,
        executions.is_success,
        executions.has_exit_event,
        executions.event_count,
        executions.project_uuid_source,
        executions.client_id,
        executions.environment_name_hash,
        executions.environment_name,
        executions.is_production_environment,
        executions.environment_segment,
        executions.meltano_version_segment,
        executions.os_segment,
        executions.ci_segment,
        executions.meltano_version,
        executions.python_version,
        executions.system_name,
        executions.is_ci_environment,
        executions.parent_execution_id,
        executions.run_blocks_hash,
        executions.plugin_count,
        executions.is_execution_event,
        executions.is_qualifying_execution,
        executions.is_pipeline_run,
        executions.pipeline_spec_kind,
        executions.pipeline_spec,
        executions.pipeline_id
    from executions

)

select * from final
