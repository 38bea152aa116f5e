{#-
    The per-event duplicate_count of parsed and quarantined kept copies adds up to the rows of
    stg_snowplow__events_duplicates, event by event.
-#}

with counted as (

    select event_id, duplicate_count from {{ ref('stg_snowplow__events') }}
    union all
    select event_id, duplicate_count from {{ ref('stg_snowplow__events_quarantine') }}
    where check_stage = 'content'

),

dropped as (

    select
        event_id,
        count(*) as dropped_count
    from {{ ref('stg_snowplow__events_duplicates') }}
    group by event_id

),

final as (

    select
        coalesce(counted.event_id, dropped.event_id) as event_id,
        coalesce(counted.duplicate_count, 0) as duplicate_count,
        coalesce(dropped.dropped_count, 0) as dropped_count
    from counted
    full outer join dropped on counted.event_id = dropped.event_id

)

select * from final
where duplicate_count != dropped_count
