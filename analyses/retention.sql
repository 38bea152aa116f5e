-- Retention cohorts ("Improve New User Experience" OKR; metrics.md "Retention cohorts").
--
-- Projects are grouped by the month of their first active day. For that month (0) and each
-- later month, retention_share is the share of the cohort still EOM-active. A cohort's
-- month-1 share is the usual "new projects still active a month later" key result.
with

cohorts as (

    select * from {{ ref('fct_retention_cohorts') }}

)

select
    cohort_month_start_date,
    cohort_size,
    months_since_first_active,
    eom_active_project_count,
    is_complete,
    round(cast(retention_share as numeric), 3) as retention_share
from cohorts
order by cohort_month_start_date, months_since_first_active
