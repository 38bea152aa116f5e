{#-
    One row per day of the spine: what was loaded that day and how fresh the data was at its
    end. The inputs of the health metrics bad_event_share and data_freshness_hours, and the one
    mart that reads staging (every row the loader saw, whatever became of it).
-#}
with

dates as (

    select * from {{ ref('dim_dates') }}

),

staged_events as (

    select * from {{ ref('stg_snowplow__events') }}

),

duplicates as (

    select * from {{ ref('stg_snowplow__events_duplicates') }}

),

quarantine as (

    select * from {{ ref('stg_snowplow__events_quarantine') }}

),

load_rejects as (

    select * from {{ ref('stg_snowplow__load_rejects') }}

),

events as (

    select * from {{ ref('int_telemetry_events') }}

),

-- every copy on the day it was loaded, by what became of it
loaded_rows as (

    select
        uploaded_date as load_date,
        'parsed' as fate
    from staged_events
    union all
    select
        uploaded_date as load_date,
        'duplicate' as fate
    from duplicates
    union all
    select
        uploaded_date as load_date,
        'quarantined' as fate
    from quarantine
    union all
    select
        rejected_date as load_date,
        'rejected' as fate
    from load_rejects

),

loads_by_day as (

    select
        load_date,
        sum(case when fate = 'parsed' then 1 else 0 end) as parsed_rows,
        sum(case when fate = 'duplicate' then 1 else 0 end) as duplicate_rows,
        sum(case when fate = 'quarantined' then 1 else 0 end) as quarantined_rows,
        sum(case when fate = 'rejected' then 1 else 0 end) as rejected_lines
    from loaded_rows
    group by load_date

),

newest_events as (

    select
        event_date,
        max(event_at) as newest_event_at
    from events
    group by event_date

),

daily as (

    select
        dates.date_day,
        coalesce(loads_by_day.parsed_rows, 0) as parsed_rows,
        coalesce(loads_by_day.duplicate_rows, 0) as duplicate_rows,
        coalesce(loads_by_day.quarantined_rows, 0) as quarantined_rows,
        coalesce(loads_by_day.rejected_lines, 0) as rejected_lines,
        coalesce(loads_by_day.parsed_rows, 0)
        + coalesce(loads_by_day.duplicate_rows, 0)
        + coalesce(loads_by_day.quarantined_rows, 0)
        + coalesce(loads_by_day.rejected_lines, 0) as loaded_rows,
        coalesce(loads_by_day.quarantined_rows, 0)
        + coalesce(loads_by_day.rejected_lines, 0) as bad_rows,
        -- the newest event at or before the end of the day
        max(newest_events.newest_event_at) over (
            order by dates.date_day
            rows between unbounded preceding and current row
        ) as newest_event_at
    from dates
    left join loads_by_day
        on dates.date_day = loads_by_day.load_date
    left join newest_events
        on dates.date_day = newest_events.event_date

),

final as (

    select
        *,
        -- a double on every engine, equal to the last bit (seconds_between), so exports of the
        -- marts compare equal across warehouses
        {{ telemetry_kpis.seconds_between(
            'newest_event_at',
            'cast(' ~ dbt.dateadd('day', 1, 'date_day') ~ ' as timestamp)'
        ) }} / 3600 as data_freshness_hours
    from daily

)

select * from final
