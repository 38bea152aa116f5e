{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_id',
        pre_hook=["{{ telemetry_kpis.forget_unusable_events() }}"],
        post_hook=["{{ telemetry_kpis.create_index(['event_id'], 'event_id') }}"],
    )
}}

{#-
    project_context, any version, fields by name: one row per event, from its first project
    context that has a project_uuid (staging quarantines an event without one, so every event
    here has one). The fields were parsed by int_event_contexts (one parse per context). An
    ID source other than explicit, derived or random cannot be typed: it becomes NULL (counted
    by the warn test warn_untyped_values).
-#}

-- depends_on: {{ ref('stg_snowplow__events_quarantine') }}

with contexts as (

    select * from {{ ref('int_event_contexts') }}
    where
        {{ telemetry_kpis.changed_since_last_run() }}
        and schema_vendor = 'com.meltano' and schema_name = 'project_context'
        and {{ telemetry_kpis.trim_whitespace('project_uuid') }} <> ''

),

-- An event carries one project_context; should it carry several, the first one with a
-- project_uuid counts.
first_contexts as (

    select
        event_id,
        min(context_index) as context_index
    from contexts
    group by event_id

),

first_project_contexts as (

    select contexts.*
    from contexts
    inner join first_contexts
        on
            contexts.event_id = first_contexts.event_id
            and contexts.context_index = first_contexts.context_index

),

final as (

    select
        event_id,
        context_index,
        schema_version,
        context_uuid,
        project_uuid,
        client_uuid,
        environment_name_hash,
        send_anonymous_usage_stats_source,
        _kept_at,
        case send_anonymous_usage_stats_text
            when 'true' then true
            when 'false' then false
        end as send_anonymous_usage_stats,
        case
            when project_uuid_source in ('explicit', 'derived', 'random')
                then project_uuid_source
        end as project_uuid_source
    from first_project_contexts

)

select * from final
