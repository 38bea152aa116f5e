{#-
    Retention cohorts (metrics.md "Retention cohorts", input of the "Improve New User
    Experience" OKR): projects grouped by the month of their first active day; for that month
    and every later month up to the as-of month, the share of the cohort that is EOM-active.
-#}
with

projects as (

    select * from {{ ref('dim_projects') }}

),

activity as (

    select * from {{ ref('fct_project_activity_daily') }}

),

dates as (

    select * from {{ ref('dim_dates') }}

),

months as (

    select
        month_start_date,
        max(month_end_date) as month_end_date,
        max(date_day) as evaluation_date,
        row_number() over (order by month_start_date) as month_number
    from dates
    group by month_start_date

),

cohort_members as (

    select
        project_id,
        cast({{ dbt.date_trunc('month', 'first_active_date') }} as date) as cohort_month_start_date
    from projects
    where first_active_date is not null

),

cohorts as (

    select
        cohort_month_start_date,
        count(*) as cohort_size
    from cohort_members
    group by cohort_month_start_date

),

cohort_months as (

    select
        cohorts.cohort_month_start_date,
        cohorts.cohort_size,
        activity_months.month_start_date,
        activity_months.month_end_date,
        activity_months.evaluation_date,
        activity_months.month_number - cohort_calendar.month_number as months_since_first_active
    from cohorts
    inner join months as cohort_calendar
        on cohorts.cohort_month_start_date = cohort_calendar.month_start_date
    inner join months as activity_months
        on cohorts.cohort_month_start_date <= activity_months.month_start_date

),

retained as (

    select
        cohort_members.cohort_month_start_date,
        activity.month_start_date,
        count(*) as eom_active_project_count
    from cohort_members
    inner join activity
        on cohort_members.project_id = activity.project_id
    where activity.is_eom_active
    group by cohort_members.cohort_month_start_date, activity.month_start_date

),

final as (

    select
        cohort_months.cohort_month_start_date,
        cohort_months.months_since_first_active,
        cohort_months.month_start_date,
        cohort_months.month_end_date,
        cohort_months.evaluation_date,
        cohort_months.cohort_size,
        cohort_months.evaluation_date = cohort_months.month_end_date as is_complete,
        coalesce(retained.eom_active_project_count, 0) as eom_active_project_count,
        cast(coalesce(retained.eom_active_project_count, 0) as {{ telemetry_kpis.type_double() }})
        / cohort_months.cohort_size as retention_share
    from cohort_months
    left join retained
        on
            cohort_months.cohort_month_start_date = retained.cohort_month_start_date
            and cohort_months.month_start_date = retained.month_start_date

)

select * from final
