{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_id',
        pre_hook=["{{ telemetry_kpis.forget_unusable_events() }}"],
        post_hook=["{{ telemetry_kpis.create_index(['event_id'], 'event_id') }}"],
    )
}}

{#- block_event, any version: a `meltano run` block's lifecycle event. -#}

-- depends_on: {{ ref('stg_snowplow__events_quarantine') }}

with events as (

    select * from {{ ref('stg_snowplow__events') }}
    where
        {{ telemetry_kpis.changed_since_last_run() }}
        and event_type = 'unstruct' and event_schema_name = 'block_event'

),

final as (

    select
        event_id,
        event_schema_version as schema_version,
        {{ telemetry_kpis.json_text('event_data', ['type']) }} as block_type,
        {{ telemetry_kpis.json_text('event_data', ['event']) }} as block_event,
        event_at,
        uploaded_at,
        _kept_at
    from events

)

select * from final
