-- Monthly active projects (MAP) by Meltano version (metrics.md "Segments").
--
-- A project counts in the version of its latest execution, up to the month's evaluation date
-- (its last day, or the as-of date for the month in progress), that reports a Meltano version;
-- `unknown` when it never reported one. The versions of a month sum to its MAP. The published
-- numbers are kpi_values_by_segment(metric_name = 'active_projects', segment =
-- 'meltano_version'); this query lays them out with each version's share of the month.
with

segments as (

    select * from {{ ref('kpi_values_by_segment') }}

),

map_by_version as (

    select
        period_start as month_start_date,
        segment_value as meltano_version,
        is_complete,
        value as active_projects
    from segments
    where
        metric_name = 'active_projects'
        and segment = 'meltano_version'

)

select
    month_start_date,
    meltano_version,
    is_complete,
    active_projects,
    active_projects
    / sum(active_projects) over (partition by month_start_date) as share_of_map
from map_by_version
order by month_start_date asc, active_projects desc, meltano_version asc
