{#-
    Nothing lost (metrics.md): every raw row ends in exactly one place, so
    raw rows = parsed events + dropped duplicate copies + quarantined rows.
    Returns one row (and fails) when the counts differ.
-#}

with raw_rows as (

    select count(*) as row_count from {{ source('snowplow', 'snowplow_events') }}

),

parsed as (

    select count(*) as row_count from {{ ref('stg_snowplow__events') }}

),

duplicates as (

    select count(*) as row_count from {{ ref('stg_snowplow__events_duplicates') }}

),

quarantined as (

    select count(*) as row_count from {{ ref('stg_snowplow__events_quarantine') }}

),

final as (

    select
        raw_rows.row_count as raw_row_count,
        parsed.row_count as parsed_count,
        duplicates.row_count as duplicate_count,
        quarantined.row_count as quarantined_count
    from raw_rows
    cross join parsed
    cross join duplicates
    cross join quarantined

)

select * from final
where raw_row_count != parsed_count + duplicate_count + quarantined_count
