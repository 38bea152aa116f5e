{#-
    Every CLI execution up to the as-of date (int_cli_executions already leaves
    out processes that only sent a telemetry_state_change_event) with its execution-level rules
    (metrics.md "Activity" and "Pipelines"): execution event, pipeline run, pipeline identity,
    resolved environment name. fct_cli_executions adds the project-dependent qualifying flag.

    A view: the costly part (plugin lists, pipeline hashes) is computed once per execution by
    the incremental int_execution_pipeline_specs; what moves between runs (the as-of date, the
    environment_names seed, the command vars) is applied here, by a filter, a join to a seed of
    a few rows and a few comparisons per execution, so it is always current.
-#}
with

executions as (

    select * from {{ ref('int_execution_pipeline_specs') }}

),

environment_names as (

    select * from {{ ref('environment_names') }}

),

as_of as (

    select * from {{ ref('dim_as_of_date') }}

),

known_environments as (

    select
        environment_name,
        is_production,
        {{ telemetry_kpis.sha256_hex('environment_name') }} as environment_name_hash
    from environment_names

),

executions_until_as_of as (

    select executions.*
    from executions
    inner join as_of
        on executions.execution_date <= as_of.as_of_date

),

classified as (

    select
        executions_until_as_of.*,
        known_environments.environment_name,
        coalesce(known_environments.is_production, false) as is_production_environment,
        coalesce(executions_until_as_of.command, '') in (
            {%- for command in var('execution_commands') %}
                '{{ command }}'{% if not loop.last %},{% endif %}
            {%- endfor %}
        ) as is_execution_event,
        coalesce(executions_until_as_of.command, '') in (
            {%- for command in var('pipeline_commands') %}
                '{{ command }}'{% if not loop.last %},{% endif %}
            {%- endfor %}
        )
        and not (
            executions_until_as_of.command = 'run'
            and coalesce(executions_until_as_of.run_blocks_hash, '')
            = '{{ var("empty_blocks_hash") }}'
        ) as is_pipeline_run
    from executions_until_as_of
    left join known_environments
        on
            lower(executions_until_as_of.environment_name_hash)
            = known_environments.environment_name_hash

),

final as (

    select
        execution_id,
        is_legacy_struct,
        project_id,
        project_uuid_source,
        client_id,
        command,
        sub_command,
        started_at,
        finished_at,
        execution_date,
        exit_code,
        is_success,
        environment_name_hash,
        meltano_version,
        python_version,
        is_ci_environment,
        environment_context_uuid,
        parent_context_uuid,
        parent_execution_id,
        ip_hash,
        run_blocks_hash,
        event_count,
        has_exit_event,
        first_uploaded_at,
        last_uploaded_at,
        environment_name,
        plugin_count,
        is_production_environment,
        is_execution_event,
        is_pipeline_run,
        raw_pipeline_spec_kind,
        raw_pipeline_spec,
        case when is_pipeline_run then raw_pipeline_spec_kind end as pipeline_spec_kind,
        case when is_pipeline_run then raw_pipeline_spec end as pipeline_spec,
        case when is_pipeline_run then raw_pipeline_canonical_text end as pipeline_canonical_text,
        case when is_pipeline_run then raw_pipeline_id end as pipeline_id
    from classified

)

select * from final
