{{ config(materialized='view') }}

{#-
    The usable events: the kept copy of every event_id (copy_rank = 1) without a content
    problem. A view on the incremental base_snowplow__events_deduped, so it is exact after
    every run (an event whose kept copy changed, or became unusable, changes here at once) and
    holds no second copy of the data. `_kept_at` tells the incremental models downstream which
    events changed.
-#}

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
        _source_line,
        _load_id,
        _kept_at
    from usable

)

select * from final
