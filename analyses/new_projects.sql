-- Monthly new projects (metrics.md "New projects").
--
-- A project counts as new in the month of its first event unless it is excluded because
--   - its project ID is `random` (a fresh id per process, not promoted to persisted_random),
--   - every execution ran in CI,
--   - it opted out of telemetry,
--   - its lifespan (last event - first event) is under 5 minutes, or
--   - it was first seen after 2022-06-01 with a first Meltano version unknown or below 2.0.
-- This query shows how many projects each exclusion removes. A project can hit several
-- exclusions; the published number is kpi_values(metric_name = 'new_projects').
with

projects as (

    select * from {{ ref('dim_projects') }}

)

select
    cast({{ dbt.date_trunc('month', 'first_event_date') }} as date) as month_start_date,
    count(*) as projects_first_seen,
    sum(case when is_excluded_random_id then 1 else 0 end) as excluded_random_id,
    sum(case when is_excluded_ci_only then 1 else 0 end) as excluded_ci_only,
    sum(case when is_excluded_opted_out then 1 else 0 end) as excluded_opted_out,
    sum(case when is_excluded_short_lifespan then 1 else 0 end) as excluded_short_lifespan,
    sum(case when is_excluded_old_version then 1 else 0 end) as excluded_old_version,
    sum(case when is_new_project then 1 else 0 end) as new_projects
from projects
group by 1
order by 1
