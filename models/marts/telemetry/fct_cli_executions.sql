{#-
    One row per Meltano CLI execution (process) up to the as-of date, with the activity and
    pipeline flags of metrics.md. The qualifying rule lives here:
    an execution event on day E is qualifying when E - date(first_event_at) >= min_project_age_days
    and the project's ID source is not `random` (after the persisted_random promotion).
-#}
with

executions as (

    select * from {{ ref('int_executions_classified') }}

),

projects as (

    select * from {{ ref('int_project_attributes') }}

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
        executions.meltano_version,
        executions.python_version,
        executions.is_ci_environment,
        executions.parent_execution_id,
        executions.run_blocks_hash,
        executions.plugin_count,
        executions.is_execution_event,
        executions.is_execution_event
        and projects.project_id_source <> 'random'
        and {{ telemetry_kpis.days_between(
            'projects.first_event_date', 'executions.execution_date'
        ) }} >= {{ var('min_project_age_days') }} as is_qualifying_execution,
        executions.is_pipeline_run,
        executions.pipeline_spec_kind,
        executions.pipeline_spec,
        executions.pipeline_id
    from executions
    inner join projects
        on executions.project_id = projects.project_id

)

select * from final
