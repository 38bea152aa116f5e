-- Load quality: bad_event_share and data_freshness_hours (metrics.md "Health metrics").
--
-- Every row the loader saw counts on its own load day: parsed, dropped as a duplicate copy,
-- quarantined, or rejected before it became a raw row. bad_event_share = (quarantined +
-- rejected) / all of them. data_freshness_hours = hours from the newest event at or before
-- the end of the day to the end of the day. The published numbers are
-- kpi_values(metric_name in ('bad_event_share', 'data_freshness_hours'), grain = 'day'); this
-- query shows the counts behind them and the quarantine reasons of each day.
with

load_quality as (

    select * from {{ ref('fct_load_quality_daily') }}

),

quarantine as (

    select * from {{ ref('stg_snowplow__events_quarantine') }}

),

reasons_by_day as (

    select
        uploaded_date as load_date,
        reason,
        count(*) as quarantined_rows
    from quarantine
    group by uploaded_date, reason

)

select
    load_quality.date_day,
    load_quality.loaded_rows,
    load_quality.bad_rows,
    load_quality.rejected_lines,
    load_quality.data_freshness_hours,
    reasons_by_day.reason,
    reasons_by_day.quarantined_rows,
    cast(load_quality.bad_rows as double precision)
    / nullif(load_quality.loaded_rows, 0) as bad_event_share
from load_quality
left join reasons_by_day
    on load_quality.date_day = reasons_by_day.load_date
order by load_quality.date_day, reasons_by_day.reason
