{{ config(materialized='table') }}

with deduped as (

    select * from {{ ref('base_snowplow__events_deduped') }}

),

usable as (

    select * from deduped
    where copy_rank = 1 and content_problem is null

),

final as (

    select
        event_id,
        event_type,
        event_at,
        cast(event_at as date) as event_date,
        collector_at,
        device_created_at,
        device_sent_at,
        uploaded_at,
        cast(uploaded_at as date) as uploaded_date,
        ip_hash,
        app_id,
        platform,
        name_tracker,
        v_tracker,
        useragent,
        contexts,
        unstruct_event,
        event_data,
        se_category,
        se_action,
        se_label,
        se_property,
        se_value,
        event_schema_vendor,
        event_schema_name,
        event_schema_format,
        event_schema_version,
        has_contexts,
        duplicate_count,
        row_hash,
        _source_file,
        _source_line
    from usable

)

select * from final
