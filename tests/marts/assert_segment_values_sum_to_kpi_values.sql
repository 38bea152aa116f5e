-- metrics.md "Segments": for every count metric and segment kind, the segment values sum to
-- the kpi_values total in every period (a period without any segment row sums to 0), except
-- unique_pipelines (a pipeline run in two segments of a kind counts in both).
with

segment_totals as (

    select
        metric_name,
        grain,
        period_start,
        segment,
        sum(value) as segment_total
    from {{ ref('kpi_values_by_segment') }}
    where metric_name not in ('unique_pipelines', 'pipeline_success_rate')
    group by metric_name, grain, period_start, segment

),

segment_kinds as (

    select distinct
        metric_name,
        segment
    from segment_totals

),

expected as (

    select
        kpi_values.metric_name,
        kpi_values.grain,
        kpi_values.period_start,
        segment_kinds.segment,
        kpi_values.value
    from {{ ref('kpi_values') }} as kpi_values
    inner join segment_kinds
        on kpi_values.metric_name = segment_kinds.metric_name

)

select
    expected.*,
    segment_totals.segment_total
from expected
left join segment_totals
    on
        expected.metric_name = segment_totals.metric_name
        and expected.grain = segment_totals.grain
        and expected.period_start = segment_totals.period_start
        and expected.segment = segment_totals.segment
where coalesce(segment_totals.segment_total, 0) <> expected.value
