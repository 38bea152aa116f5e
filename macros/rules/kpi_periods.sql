{#-
    kpi_day_periods(dates): every day of the date spine (the CTE or relation `dates`, i.e.
    dim_dates) mapped to its period at each grain: (date_day, grain, period_start, period_end).
    kpi_values, kpi_values_by_segment and kpi_drivers count on the same periods through it.
-#}
{% macro kpi_day_periods(dates) -%}
    select
        date_day,
        'day' as grain,
        date_day as period_start,
        date_day as period_end
    from {{ dates }}
    union all
    select
        date_day,
        'week' as grain,
        week_start_date as period_start,
        week_end_date as period_end
    from {{ dates }}
    union all
    select
        date_day,
        'month' as grain,
        month_start_date as period_start,
        month_end_date as period_end
    from {{ dates }}
{%- endmacro %}


{#-
    year_ago_period_start(grain, period_start): the start of the period one year earlier
    (metrics.md "Period over period"): 364 days for `day`, 52 weeks for `week` (both keep the
    weekday), 12 months for `month`.
-#}
{% macro year_ago_period_start(grain, period_start) -%}
    case {{ grain }}
        when 'month' then cast({{ dbt.dateadd('month', -12, period_start) }} as date)
        else cast({{ dbt.dateadd('day', -364, period_start) }} as date)
    end
{%- endmacro %}
