{{ config(materialized='view') }}

{#- One row per dropped copy, with the copy that was kept (a view: exact after every run). -#}

with deduped as (

    select * from {{ ref('base_snowplow__events_deduped') }}

),

kept as (

    select
        event_id,
        _source_file as kept_source_file,
        _source_line as kept_source_line,
        _load_id as kept_load_id,
        uploaded_at as kept_uploaded_at,
        content_problem
    from deduped
    where copy_rank = 1

),

dropped as (

    select * from deduped
    where copy_rank > 1

),

final as (

    select
        dropped.event_id,
        dropped.copy_rank,
        dropped.uploaded_at,
        cast(dropped.uploaded_at as date) as uploaded_date,
        dropped.collector_at,
        dropped.row_hash,
        dropped._source_file,
        dropped._source_line,
        dropped._load_id,
        kept.kept_source_file,
        kept.kept_source_line,
        kept.kept_load_id,
        kept.kept_uploaded_at,
        kept.content_problem is not null as is_kept_copy_quarantined
    from dropped
    inner join kept on dropped.event_id = kept.event_id

)

select * from final
