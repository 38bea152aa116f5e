-- Every kpi_values series runs from the first event's period to the as-of period with no
-- gap: for each (metric_name, grain) the periods are exactly the periods of the date spine.
with

kpi_values as (

    select * from {{ ref('kpi_values') }}

),

dates as (

    select * from {{ ref('dim_dates') }}

),

spine_periods as (

    select distinct
        'day' as grain,
        date_day as period_start,
        date_day as period_end
    from dates
    union all
    select distinct
        'week' as grain,
        week_start_date as period_start,
        week_end_date as period_end
    from dates
    union all
    select distinct
        'month' as grain,
        month_start_date as period_start,
        month_end_date as period_end
    from dates

),

series as (

    select distinct
        metric_name,
        grain
    from kpi_values

),

expected as (

    select
        series.metric_name,
        series.grain,
        spine_periods.period_start,
        spine_periods.period_end
    from series
    inner join spine_periods
        on series.grain = spine_periods.grain

),

missing as (

    select
        expected.metric_name,
        expected.grain,
        expected.period_start,
        'missing period' as problem
    from expected
    left join kpi_values
        on
            expected.metric_name = kpi_values.metric_name
            and expected.grain = kpi_values.grain
            and expected.period_start = kpi_values.period_start
    where kpi_values.metric_name is null

),

unexpected as (

    select
        kpi_values.metric_name,
        kpi_values.grain,
        kpi_values.period_start,
        'period outside the spine or wrong period_end' as problem
    from kpi_values
    left join expected
        on
            kpi_values.metric_name = expected.metric_name
            and kpi_values.grain = expected.grain
            and kpi_values.period_start = expected.period_start
            and kpi_values.period_end = expected.period_end
    where expected.metric_name is null

)

select * from missing
union all
select * from unexpected
