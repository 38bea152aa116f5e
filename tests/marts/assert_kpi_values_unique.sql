-- kpi_values holds one row per (metric_name, grain, period_start).
select
    metric_name,
    grain,
    period_start,
    count(*) as row_count
from {{ ref('kpi_values') }}
group by metric_name, grain, period_start
having count(*) > 1
