{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_id',
        pre_hook=["{{ telemetry_kpis.forget_unusable_events() }}"],
        post_hook=["{{ telemetry_kpis.create_index(['event_id'], 'event_id') }}"],
    )
}}

{#- exit_event, any version: the process exit code, time and duration. -#}

-- depends_on: {{ ref('stg_snowplow__events_quarantine') }}

with events as (

    select * from {{ ref('stg_snowplow__events') }}
    where
        {{ telemetry_kpis.changed_since_last_run() }}
        and event_type = 'unstruct' and event_schema_name = 'exit_event'

),

extracted as (

    select
        event_id,
        event_schema_version as schema_version,
        {{ telemetry_kpis.json_text('event_data', ['exit_code']) }} as exit_code_text,
        {{ telemetry_kpis.json_text('event_data', ['exit_timestamp']) }} as exit_timestamp,
        {{ telemetry_kpis.json_text('event_data', ['process_duration_microseconds']) }}
            as process_duration_text,
        event_at,
        uploaded_at,
        _kept_at
    from events

),

final as (

    select
        event_id,
        schema_version,
        exit_code_text,
        case
            when {{ telemetry_kpis.regex_matches('exit_code_text', "'^-?[0-9]{1,9}$'") }}
                then cast(exit_code_text as integer)
        end as exit_code,
        exit_timestamp,
        {{ telemetry_kpis.iso_timestamp_to_utc('exit_timestamp') }} as exited_at,
        case
            when {{ telemetry_kpis.regex_matches('process_duration_text', "'^[0-9]{1,18}$'") }}
                then cast(process_duration_text as {{ dbt.type_bigint() }})
        end as process_duration_microseconds,
        event_at,
        uploaded_at,
        _kept_at
    from extracted

)

select * from final
