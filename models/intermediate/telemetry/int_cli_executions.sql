{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='execution_id',
        pre_hook=["{{ telemetry_kpis.forget_executions_of_removed_events() }}"],
        post_hook=[
            "{{ telemetry_kpis.create_index(['execution_id'], 'execution_id') }}",
            "{{ telemetry_kpis.create_index(['parent_context_uuid'], 'parent_context_uuid') }}",
        ],
    )
}}

{#-
    One row per Meltano CLI process (execution_id = project_context.context_uuid; a pure legacy
    struct event is its own execution, keyed by its event_id). telemetry_state_change_events
    are not executions: a process that only sent one (the opt-out notice) has no row here.

    Command (metrics.md "CLI command"): the cli_context entry whose command is not `cli` and
    whose parent_command_hint is null or `cli` is the top-level command; sub_command is the
    entry whose parent_command_hint is that command (cli_context 1-0-0: its sub_command field).
    A process without such an entry (a usage error sends only an exit_event with the contexts
    parsed so far) keeps the deepest command it has: `cli`. Legacy struct events: the word after
    `meltano ` in se_category.

    Incremental (by batch marker, whatever the upload times the files carried): the executions
    with an event whose kept copy changed since the newest `_changed_at` here (plus the
    executions whose parent process is among them) are recomputed from ALL their events and
    replaced (delete+insert on execution_id); an execution that lost an event (a tombstone in
    int_telemetry_events) is deleted first by a pre-hook and written again if it still has
    events. `_changed_at` is the run that last wrote the row: bookkeeping that the marts do
    not select.
-#}

with attributed_events as (

    select * from {{ ref('int_telemetry_events') }}

),

all_events as (

    select * from attributed_events
    where is_execution_event

),

{% if is_incremental() %}

-- every event changed since the last run, tombstones included (their execution lost one)
window_executions as (

    select distinct
        execution_id,
        environment_context_uuid
    from attributed_events
    where {{ telemetry_kpis.changed_in_window('_kept_at') }}

),

affected_executions as (

    select execution_id from window_executions
    union
    -- children whose parent process may be new: their parent_execution_id is recomputed
    select this_model.execution_id
    from {{ this }} as this_model
    inner join window_executions
        on this_model.parent_context_uuid = window_executions.environment_context_uuid

),

{% endif %}

events as (

    select * from all_events
    {%- if is_incremental() %}
    where execution_id in (select affected_executions.execution_id from affected_executions)
    {%- endif %}

),

cli_contexts as (

    select * from {{ ref('int_cli_contexts') }}

),

execution_cli_contexts as (

    select distinct
        events.execution_id,
        cli_contexts.command,
        cli_contexts.parent_command_hint,
        cli_contexts.sub_command,
        cli_contexts.option_blocks
    from events
    inner join cli_contexts on events.event_id = cli_contexts.event_id

),

top_level_commands as (

    select
        execution_id,
        min(command) as command,
        min(sub_command) as sub_command_v1
    from execution_cli_contexts
    where
        command != 'cli'
        and (parent_command_hint is null or parent_command_hint = 'cli')
    group by execution_id

),

sub_commands as (

    select
        top_level_commands.execution_id,
        min(execution_cli_contexts.command) as sub_command
    from top_level_commands
    inner join execution_cli_contexts
        on
            top_level_commands.execution_id = execution_cli_contexts.execution_id
            and top_level_commands.command = execution_cli_contexts.parent_command_hint
    group by top_level_commands.execution_id

),

cli_summary as (

    select
        execution_id,
        max(case when command = 'run' then option_blocks end) as run_blocks_hash,
        count(*) as cli_context_count
    from execution_cli_contexts
    group by execution_id

),

first_events as (

    select
        execution_id,
        ip_hash,
        row_number() over (
            partition by execution_id order by event_at, event_id
        ) as event_rank
    from events

),

aggregated as (

    select
        execution_id,
        {{ dbt.bool_or("is_legacy_struct") }} as is_legacy_struct,
        min(project_id) as project_id,
        min(project_uuid_source) as project_uuid_source,
        min(client_id) as client_id,
        min(legacy_command) as legacy_command,
        min(event_at) as started_at,
        max(event_at) as finished_at,
        max(exit_code) as exit_code,
        {{ dbt.bool_or("event_kind = 'exit_event'") }} as has_exit_event,
        min(environment_name_hash) as environment_name_hash,
        min(meltano_version) as meltano_version,
        min(python_version) as python_version,
        min(system_name) as system_name,
        {{ dbt.bool_or("is_ci_environment") }} as is_ci_environment,
        min(environment_context_uuid) as environment_context_uuid,
        min(parent_context_uuid) as parent_context_uuid,
        count(*) as event_count,
        min(uploaded_at) as first_uploaded_at,
        max(uploaded_at) as last_uploaded_at,
        {{ telemetry_kpis.batch_at() }} as _changed_at
    from events
    group by execution_id

),

executions as (

    select
        aggregated.execution_id,
        aggregated.is_legacy_struct,
        aggregated.project_id,
        aggregated.project_uuid_source,
        aggregated.client_id,
        aggregated.started_at,
        aggregated.finished_at,
        aggregated.exit_code,
        aggregated.environment_name_hash,
        aggregated.meltano_version,
        aggregated.python_version,
        aggregated.system_name,
        aggregated.is_ci_environment,
        aggregated.environment_context_uuid,
        aggregated.parent_context_uuid,
        first_events.ip_hash,
        cli_summary.run_blocks_hash,
        aggregated.event_count,
        aggregated.has_exit_event,
        aggregated.first_uploaded_at,
        aggregated.last_uploaded_at,
        aggregated._changed_at,
        cast(aggregated.started_at as date) as execution_date,
        coalesce(
            top_level_commands.command, aggregated.legacy_command, 'cli'
        ) as command,
        coalesce(
            sub_commands.sub_command, top_level_commands.sub_command_v1
        ) as sub_command,
        coalesce(aggregated.exit_code = 0, false) as is_success
    from aggregated
    left join top_level_commands on aggregated.execution_id = top_level_commands.execution_id
    left join sub_commands on aggregated.execution_id = sub_commands.execution_id
    left join cli_summary on aggregated.execution_id = cli_summary.execution_id
    left join first_events
        on
            aggregated.execution_id = first_events.execution_id
            and first_events.event_rank = 1

),

known_processes as (

    select
        execution_id,
        environment_context_uuid
    from executions
    {%- if is_incremental() %}
    union all
    select
        this_model.execution_id,
        this_model.environment_context_uuid
    from {{ this }} as this_model
    left join executions on this_model.execution_id = executions.execution_id
    where executions.execution_id is null
    {%- endif %}

),

parents as (

    select
        environment_context_uuid,
        min(execution_id) as parent_execution_id
    from known_processes
    where environment_context_uuid is not null
    group by environment_context_uuid

),

final as (

    select
        executions.execution_id,
        executions.is_legacy_struct,
        executions.project_id,
        executions.project_uuid_source,
        executions.client_id,
        executions.command,
        executions.sub_command,
        executions.started_at,
        executions.finished_at,
        executions.execution_date,
        executions.exit_code,
        executions.is_success,
        executions.environment_name_hash,
        executions.meltano_version,
        executions.python_version,
        executions.system_name,
        executions.is_ci_environment,
        executions.environment_context_uuid,
        executions.parent_context_uuid,
        parents.parent_execution_id,
        executions.ip_hash,
        executions.run_blocks_hash,
        executions.event_count,
        executions.has_exit_event,
        executions.first_uploaded_at,
        executions.last_uploaded_at,
        executions._changed_at
    from executions
    left join parents on executions.parent_context_uuid = parents.environment_context_uuid

)

select * from final
