{{
    config(
        materialized='table',
        pre_hook=["{{ telemetry_kpis.create_engine_functions() }}"],
    )
}}

{#-
    Every raw row, once, with the row-level checks staging needs and no personal data: the IP
    address is replaced by its SHA-256 here and never leaves this model in clear text.
-#}

with source as (

    select * from {{ source('snowplow', 'snowplow_events') }}

),

hashed as (

    select
        nullif(trim(event_id), '') as event_id,
        nullif(trim(event), '') as event_type,
        collector_tstamp,
        derived_tstamp,
        {{ telemetry_kpis.try_timestamp('collector_tstamp') }} as collector_at,
        {{ telemetry_kpis.try_timestamp('derived_tstamp') }} as event_at,
        {{ telemetry_kpis.try_timestamp('dvce_created_tstamp') }} as device_created_at,
        {{ telemetry_kpis.try_timestamp('dvce_sent_tstamp') }} as device_sent_at,
        cast(uploaded_at as timestamp) as uploaded_at,
        {{ telemetry_kpis.sha256_hex('user_ipaddress') }} as ip_hash,
        app_id,
        platform,
        name_tracker,
        v_tracker,
        useragent,
        nullif(contexts, '') as contexts,
        nullif(unstruct_event, '') as unstruct_event,
        nullif(se_category, '') as se_category,
        nullif(se_action, '') as se_action,
        nullif(se_label, '') as se_label,
        nullif(se_property, '') as se_property,
        nullif(se_value, '') as se_value,
        _source_file,
        cast(_source_line as {{ dbt.type_bigint() }}) as _source_line,
        {{ telemetry_kpis.sha256_hex(telemetry_kpis.raw_row_text()) }} as row_hash
    from source

),

checked as (

    select
        *,
        contexts is null or {{ telemetry_kpis.json_is_valid('contexts') }} as is_contexts_json,
        unstruct_event is null
        or {{ telemetry_kpis.json_is_valid('unstruct_event') }} as is_unstruct_event_json
    from hashed

),

final as (

    select
        *,
        case
            when event_id is null then 'missing_event_id'
            when not is_contexts_json or not is_unstruct_event_json then 'invalid_json'
            when event_at is null or collector_at is null then 'invalid_timestamp'
        end as row_problem,
        case
            when event_id is null then 'event_id is null or empty'
            when not is_contexts_json then 'contexts is not valid JSON'
            when not is_unstruct_event_json then 'unstruct_event is not valid JSON'
            when event_at is null
                then 'derived_tstamp is not a timestamp: ' || coalesce(derived_tstamp, 'null')
            when collector_at is null
                then 'collector_tstamp is not a timestamp: ' || coalesce(collector_tstamp, 'null')
        end as row_problem_detail
    from checked

)

select * from final
