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
    One row per telemetry_state_change_event (e.g. opting out: setting_name =
    send_anonymous_usage_stats, changed_to = 'false'). Not executions: the CLI sends it at the
    start of the next command, with only the environment and project contexts. Boolean values
    are the text 'true'/'false' on every engine.
-#}

-- depends_on: {{ ref('stg_snowplow__events_quarantine') }}

with events as (

    select * from {{ ref('stg_snowplow__events') }}
    where
        {{ telemetry_kpis.changed_since_last_run() }}
        and event_type = 'unstruct' and event_schema_name = 'telemetry_state_change_event'

),

-- attributed by int_telemetry_events (built earlier in the same run)
attributed_events as (

    select * from {{ ref('int_telemetry_events') }}

),

final as (

    select
        events.event_id,
        attributed_events.execution_id,
        attributed_events.project_id,
        events.event_at,
        events.event_date,
        events.uploaded_at,
        events.event_schema_version as schema_version,
        {{ telemetry_kpis.json_text('events.event_data', ['setting_name']) }} as setting_name,
        {{ telemetry_kpis.json_text('events.event_data', ['changed_from']) }} as changed_from,
        {{ telemetry_kpis.json_text('events.event_data', ['changed_to']) }} as changed_to,
        events._kept_at
    from events
    left join attributed_events on events.event_id = attributed_events.event_id

)

select * from final
