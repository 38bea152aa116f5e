{#-
    One row per UTC calendar day from the first event's day to the as-of date: the spine every
    daily, weekly and monthly series is built on, so no period is ever missing.
    Weeks start on Monday (ISO); months are calendar months.
-#}
with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

digits as (

    select digit_values.digit
    from (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as digit_values (digit)

),

-- 0 .. 99 999 days (273 years), enough for any telemetry history
day_offsets as (

    select
        ones.digit
        + 10 * tens.digit
        + 100 * hundreds.digit
        + 1000 * thousands.digit
        + 10000 * ten_thousands.digit as day_offset
    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
    cross join digits as ten_thousands

),

days as (

    select
        as_of.as_of_date,
        as_of.first_event_date + day_offsets.day_offset as date_day
    from as_of
    inner join day_offsets
        on day_offsets.day_offset <= {{ telemetry_kpis.days_between(
            'as_of.first_event_date', 'as_of.as_of_date'
        ) }}

),

final as (

    select
        date_day,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start_date,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) + 6 as week_end_date,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,
        cast({{ dbt.last_day('date_day', 'month') }} as date) as month_end_date,
        date_day = cast({{ dbt.last_day('date_day', 'month') }} as date) as is_month_end,
        date_day = as_of_date as is_as_of_date,
        -- the day a month is evaluated on: its last day, or the as-of date while in progress
        date_day = as_of_date
        or date_day
        = cast({{ dbt.last_day('date_day', 'month') }} as date) as is_month_evaluation_date
    from days

)

select * from final
