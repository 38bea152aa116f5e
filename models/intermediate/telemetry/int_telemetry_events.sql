{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_id',
        post_hook=[
            "{{ telemetry_kpis.create_index(['event_id'], 'event_id') }}",
            "{{ telemetry_kpis.create_index(['execution_id'], 'execution_id') }}",
            "{{ telemetry_kpis.create_index(['_kept_at'], 'kept_at') }}",
        ],
    )
}}

{#-
    One row per usable event, attributed to its project and to its CLI process:
    execution_id = project_context.context_uuid (pure legacy struct events: their event_id),
    project_id = project_context.project_uuid (pure legacy: se_label). Also carries the
    per-event facts int_cli_executions aggregates, so that model reads small columns only.
    The project and environment contexts are typed here, from int_event_contexts.

    Incremental: the events whose kept copy changed since the last run (`_kept_at`), replaced
    by event_id, joined to their rows of the event-level models (built in the same run).

    An event that leaves (a later load brought an earlier-uploaded copy that cannot be used:
    see forget_unusable_events) is replaced by a **tombstone**: is_removed true, its
    execution_id and project_id kept so that int_cli_executions and int_execution_plugins know
    which execution lost it, every other column null (is_execution_event false). Every reader
    either keeps execution events only or joins on event_date, so a tombstone counts nowhere.
-#}

-- depends_on: {{ ref('stg_snowplow__events_quarantine') }}

with events as (

    select * from {{ ref('stg_snowplow__events') }}
    where {{ telemetry_kpis.changed_since_last_run() }}

),

-- the com.meltano project and environment contexts of those events (parsed once by
-- int_event_contexts), only the columns read here (the CTE is read twice, so an engine may
-- materialise it); a project context counts only with a non-empty project_uuid
meltano_contexts as (

    select
        event_id,
        context_index,
        schema_name,
        context_uuid,
        project_uuid,
        project_uuid_source,
        client_uuid,
        environment_name_hash,
        send_anonymous_usage_stats_text,
        parent_context_uuid,
        meltano_version,
        python_version,
        system_name,
        is_ci_environment_text
    from {{ ref('int_event_contexts') }}
    where
        {{ telemetry_kpis.changed_since_last_run() }}
        and schema_vendor = 'com.meltano'
        and (
            schema_name = 'environment_context'
            or (
                schema_name = 'project_context'
                and {{ telemetry_kpis.trim_whitespace('project_uuid') }} <> ''
            )
        )

),

-- An event carries one context of each; should it carry several, the first one counts.
first_contexts as (

    select
        event_id,
        schema_name,
        min(context_index) as context_index
    from meltano_contexts
    group by event_id, schema_name

),

first_meltano_contexts as (

    select meltano_contexts.*
    from meltano_contexts
    inner join first_contexts
        on
            meltano_contexts.event_id = first_contexts.event_id
            and meltano_contexts.context_index = first_contexts.context_index

),

project_contexts as (

    select
        event_id,
        context_uuid,
        project_uuid,
        client_uuid,
        environment_name_hash,
        case send_anonymous_usage_stats_text
            when 'true' then true
            when 'false' then false
        end as send_anonymous_usage_stats,
        -- another ID source cannot be typed: NULL, counted by warn_untyped_values
        case
            when project_uuid_source in ('explicit', 'derived', 'random')
                then project_uuid_source
        end as project_uuid_source
    from first_meltano_contexts
    where schema_name = 'project_context'

),

environment_contexts as (

    select
        event_id,
        context_uuid,
        parent_context_uuid,
        meltano_version,
        python_version,
        system_name,
        case is_ci_environment_text
            when 'true' then true
            when 'false' then false
        end as is_ci_environment
    from first_meltano_contexts
    where schema_name = 'environment_context'

),

cli_events as (

    select * from {{ ref('int_cli_events') }}

),

block_events as (

    select * from {{ ref('int_block_events') }}

),

exit_events as (

    select * from {{ ref('int_exit_events') }}

),

state_changes as (

    select
        event_id,
        {{ telemetry_kpis.json_text('event_data', ['setting_name']) }} as setting_name
    from events
    where event_type = 'unstruct' and event_schema_name = 'telemetry_state_change_event'

),

legacy_events as (

    select * from {{ ref('int_legacy_struct_events') }}

),

joined as (

    select
        events.event_id,
        events.event_type,
        events.event_schema_name,
        events.event_schema_version,
        events.event_at,
        events.event_date,
        events.uploaded_at,
        events.ip_hash,
        events.se_action,
        events.se_label,
        project_contexts.context_uuid as project_context_uuid,
        project_contexts.project_uuid,
        project_contexts.project_uuid_source,
        project_contexts.client_uuid,
        project_contexts.environment_name_hash,
        project_contexts.send_anonymous_usage_stats,
        environment_contexts.context_uuid as environment_context_uuid,
        environment_contexts.parent_context_uuid,
        environment_contexts.meltano_version,
        environment_contexts.python_version,
        environment_contexts.system_name,
        environment_contexts.is_ci_environment,
        cli_events.cli_event,
        block_events.block_type,
        block_events.block_event,
        exit_events.exit_code,
        state_changes.setting_name,
        legacy_events.legacy_command,
        events._kept_at,
        coalesce(legacy_events.is_pure_legacy, false) as is_pure_legacy
    from events
    left join project_contexts on events.event_id = project_contexts.event_id
    left join environment_contexts on events.event_id = environment_contexts.event_id
    left join cli_events on events.event_id = cli_events.event_id
    left join block_events on events.event_id = block_events.event_id
    left join exit_events on events.event_id = exit_events.event_id
    left join state_changes on events.event_id = state_changes.event_id
    left join legacy_events on events.event_id = legacy_events.event_id

),

usable as (

    select
        event_id,
        case
            when is_pure_legacy then event_id
            else project_context_uuid
        end as execution_id,
        case
            when is_pure_legacy then se_label
            else project_uuid
        end as project_id,
        event_at,
        event_date,
        uploaded_at,
        ip_hash,
        case
            when event_type = 'struct' then 'legacy_struct'
            else event_schema_name
        end as event_kind,
        case
            when event_type = 'struct' then se_action
            when event_schema_name = 'cli_event' then cli_event
            when event_schema_name = 'block_event' then block_event
            when event_schema_name = 'exit_event' then cast(exit_code as {{ dbt.type_string() }})
            when event_schema_name = 'telemetry_state_change_event' then setting_name
        end as event_action,
        event_schema_name <> 'telemetry_state_change_event'
        or event_schema_name is null as is_execution_event,
        is_pure_legacy as is_legacy_struct,
        event_schema_version,
        project_uuid_source,
        client_uuid as client_id,
        environment_name_hash,
        send_anonymous_usage_stats,
        environment_context_uuid,
        parent_context_uuid,
        meltano_version,
        python_version,
        system_name,
        is_ci_environment,
        block_type,
        exit_code,
        legacy_command,
        false as is_removed,
        _kept_at
    from joined

),

{% if is_incremental() %}

tombstones as (

    select
        this_model.event_id,
        this_model.execution_id,
        this_model.project_id,
        quarantine._kept_at
    from {{ this }} as this_model
    inner join {{ ref('stg_snowplow__events_quarantine') }} as quarantine
        on this_model.event_id = quarantine.event_id
    where
        quarantine.check_stage = 'content'
        and quarantine._kept_at > {{ telemetry_kpis.max_in_this('_kept_at') }}
        and not this_model.is_removed

),

{% endif %}

final as (

    select * from usable
    {%- if is_incremental() %}
    union all
    select
        event_id,
        execution_id,
        project_id,
        null as event_at,
        null as event_date,
        null as uploaded_at,
        null as ip_hash,
        null as event_kind,
        null as event_action,
        false as is_execution_event,
        null as is_legacy_struct,
        null as event_schema_version,
        null as project_uuid_source,
        null as client_id,
        null as environment_name_hash,
        null as send_anonymous_usage_stats,
        null as environment_context_uuid,
        null as parent_context_uuid,
        null as meltano_version,
        null as python_version,
        null as system_name,
        null as is_ci_environment,
        null as block_type,
        null as exit_code,
        null as legacy_command,
        true as is_removed,
        _kept_at
    from tombstones
    {%- endif %}

)

select * from final
