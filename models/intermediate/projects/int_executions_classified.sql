{#-
    Every CLI execution up to the as-of date (int_cli_executions already leaves
    out processes that only sent a telemetry_state_change_event) with its execution-level rules
    (metrics.md "Activity" and "Pipelines"): execution event, qualifying execution (with the
    project's attributes), pipeline run, pipeline identity, resolved environment name.

    A view: the costly part (plugin lists, pipeline hashes) is computed once per execution by
    the incremental int_execution_pipeline_specs; what moves between runs (the as-of date, the
    environment_names seed, the command vars) is applied here, by a filter, a join to a seed of
    a few rows and a few comparisons per execution, so it is always current.

    Events after the as-of day are ignored (metrics.md "Publishing contract"): an execution
    that started on or before the as-of day but has events after its midnight (only possible
    with an explicit as_of_date) takes finished_at, exit code, success, event count and plugins
    (so the plugin-list pipeline identity) from its events up to the as-of day only. Those few
    executions are recomputed here from int_telemetry_events and int_execution_plugins, with
    the same pipeline identity macro as int_execution_pipeline_specs.
-#}
{#- What an execution's events after the as-of day could change. -#}
{%- set as_of_dependent_columns = [
    'finished_at', 'exit_code', 'is_success', 'has_exit_event', 'event_count', 'plugin_count',
    'raw_pipeline_spec_kind', 'raw_pipeline_spec', 'raw_pipeline_canonical_text',
    'raw_pipeline_id',
] %}

with

executions as (

    select * from {{ ref('int_execution_pipeline_specs') }}

),

environment_names as (

    select * from {{ ref('environment_names') }}

),

events as (

    select * from {{ ref('int_telemetry_events') }}

),

plugins as (

    select * from {{ ref('int_execution_plugins') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

projects as (

    select * from {{ ref('int_project_attributes') }}

),

known_environments as (

    select
        environment_name,
        is_production,
        {{ telemetry_kpis.sha256_hex('environment_name') }} as environment_name_hash
    from environment_names

),

executions_started as (

    select
        executions.*,
        executions.finished_at >= as_of.as_of_at as crosses_as_of
    from executions
    inner join as_of
        on executions.execution_date <= as_of.as_of_date

),

-- The executions with events after the as-of day, rolled up from their events up to it.
crossing_events as (

    select
        events.execution_id,
        events.event_at,
        events.event_kind,
        events.exit_code
    from events
    inner join executions_started
        on events.execution_id = executions_started.execution_id
    inner join as_of
        on events.event_at < as_of.as_of_at
    where executions_started.crosses_as_of and events.is_execution_event

),

crossing_rollups as (

    select
        execution_id,
        max(event_at) as finished_at,
        max(exit_code) as exit_code,
        {{ dbt.bool_or("event_kind = 'exit_event'") }} as has_exit_event,
        count(*) as event_count
    from crossing_events
    group by execution_id

),

crossing_executions as (

    select
        executions_started.execution_id,
        executions_started.project_id,
        executions_started.environment_name_hash,
        executions_started.command,
        executions_started.run_blocks_hash,
        crossing_rollups.finished_at,
        crossing_rollups.exit_code,
        crossing_rollups.has_exit_event,
        crossing_rollups.event_count,
        coalesce(crossing_rollups.exit_code = 0, false) as is_success
    from executions_started
    inner join crossing_rollups
        on executions_started.execution_id = crossing_rollups.execution_id

),

crossing_plugins as (

    select plugins.*
    from plugins
    inner join crossing_executions
        on plugins.execution_id = crossing_executions.execution_id
    inner join as_of
        on plugins.first_seen_at < as_of.as_of_at

),

{{ telemetry_kpis.pipeline_identity('crossing_executions', 'crossing_plugins') }},

executions_until_as_of as (

    select
        executions_started.execution_id,
        executions_started.is_legacy_struct,
        executions_started.project_id,
        executions_started.project_uuid_source,
        executions_started.client_id,
        executions_started.command,
        executions_started.sub_command,
        executions_started.started_at,
        executions_started.execution_date,
        executions_started.environment_name_hash,
        executions_started.meltano_version,
        executions_started.python_version,
        executions_started.system_name,
        executions_started.is_ci_environment,
        executions_started.environment_context_uuid,
        executions_started.parent_context_uuid,
        executions_started.parent_execution_id,
        executions_started.ip_hash,
        executions_started.run_blocks_hash,
        executions_started.first_uploaded_at,
        executions_started.last_uploaded_at,
        executions_started.crosses_as_of,
        {%- for column in as_of_dependent_columns %}
            case
                when executions_started.crosses_as_of then pipeline_identities.{{ column }}
                else executions_started.{{ column }}
            end as {{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from executions_started
    left join pipeline_identities
        on executions_started.execution_id = pipeline_identities.execution_id

),

classified as (

    select
        executions_until_as_of.*,
        known_environments.environment_name,
        coalesce(known_environments.is_production, false) as is_production_environment,
        -- the segments of metrics.md "Segments: why a number moved"
        case
            when coalesce(executions_until_as_of.environment_name_hash, '') = '' then 'none'
            when known_environments.environment_name is null then 'other'
            else known_environments.environment_name
        end as environment_segment,
        coalesce(
            {{ telemetry_kpis.regex_extract(
                'executions_until_as_of.meltano_version', "'^[0-9]+[.][0-9]+'"
            ) }},
            'unknown'
        ) as meltano_version_segment,
        coalesce(
            nullif(trim(executions_until_as_of.system_name), ''), 'unknown'
        ) as os_segment,
        case
            when executions_until_as_of.is_ci_environment then 'ci' else 'local'
        end as ci_segment,
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

-- The qualifying rule (metrics.md "Activity"): an execution event on day E qualifies when
-- E - date(first event of the project) >= min_project_age_days and the project's ID source
-- is not `random` (after the persisted_random promotion).
qualified as (

    select
        classified.*,
        coalesce(
            classified.is_execution_event
            and projects.project_id_source <> 'random'
            and {{ telemetry_kpis.days_between(
                'projects.first_event_date', 'classified.execution_date'
            ) }} >= {{ var('min_project_age_days') }},
            false
        ) as is_qualifying_execution
    from classified
    left join projects
        on classified.project_id = projects.project_id

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
        system_name,
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
        environment_segment,
        meltano_version_segment,
        os_segment,
        ci_segment,
        is_execution_event,
        is_qualifying_execution,
        is_pipeline_run,
        raw_pipeline_spec_kind,
        raw_pipeline_spec,
        case when is_pipeline_run then raw_pipeline_spec_kind end as pipeline_spec_kind,
        case when is_pipeline_run then raw_pipeline_spec end as pipeline_spec,
        case when is_pipeline_run then raw_pipeline_canonical_text end as pipeline_canonical_text,
        case when is_pipeline_run then raw_pipeline_id end as pipeline_id
    from qualified

)

select * from final
