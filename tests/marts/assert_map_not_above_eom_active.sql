-- MAP (qualifying execution in the month AND EOM-active) can never exceed EOM-active projects,
-- neither per project-month nor in the published kpi_values.
with

project_months as (

    select * from {{ ref('fct_project_months') }}

),

kpi_values as (

    select * from {{ ref('kpi_values') }}

),

per_month as (

    select
        month_start_date,
        sum(case when is_monthly_active then 1 else 0 end) as monthly_active_projects,
        sum(case when is_eom_active then 1 else 0 end) as eom_active_projects
    from project_months
    group by month_start_date

),

published as (

    select
        period_start as month_start_date,
        value as active_projects
    from kpi_values
    where
        metric_name = 'active_projects'
        and grain = 'month'

)

select
    per_month.month_start_date,
    per_month.monthly_active_projects,
    per_month.eom_active_projects,
    published.active_projects
from per_month
left join published
    on per_month.month_start_date = published.month_start_date
where
    per_month.monthly_active_projects > per_month.eom_active_projects
    or published.active_projects <> per_month.monthly_active_projects
    or exists (
        select 1
        from project_months
        where
            project_months.is_monthly_active
            and not project_months.is_eom_active
    )
