{#-
    One row per project (project_context.project_uuid) seen up to the as-of date: its attributes
    (metrics.md "Project attributes"), first active day, and the new-project rule of metrics.md
    "New projects": a project counts as new in the period of its first event unless any
    excluded_* flag is true.
-#}
with

projects as (

    select * from {{ ref('int_project_attributes') }}

),

executions as (

    select * from {{ ref('int_executions_classified') }}

),

-- a project's first active day is its first qualifying execution's day (the execution makes
-- it active that day, and nothing earlier could)
first_activity as (

    select
        project_id,
        min(execution_date) as first_active_date,
        max(execution_date) as last_qualifying_date
    from executions
    where is_qualifying_execution
    group by project_id

),

flagged as (

    select
        projects.*,
        first_activity.first_active_date,
        first_activity.last_qualifying_date,
        projects.project_id_source = 'random' as is_excluded_random_id,
        projects.is_ci_only as is_excluded_ci_only,
        projects.is_opted_out as is_excluded_opted_out,
        -- 4:59 is excluded, exactly 5:00 counts
        projects.last_event_at < {{ dbt.dateadd(
            'minute', var('new_project_min_lifespan_minutes'), 'projects.first_event_at'
        ) }} as is_excluded_short_lifespan,
        projects.first_event_date > cast('{{ var("old_version_cutoff_date") }}' as date)
        and coalesce(
            projects.first_meltano_major_version < {{ var('new_project_min_meltano_major') }},
            true
        ) as is_excluded_old_version
    from projects
    left join first_activity
        on projects.project_id = first_activity.project_id

),

final as (

    select
        project_id,
        first_event_at,
        last_event_at,
        first_event_date,
        last_event_date,
        lifespan_seconds,
        event_count,
        ip_hash_count,
        execution_count,
        first_project_uuid_source,
        project_id_source,
        is_ci_only,
        is_opted_out,
        opted_out_at,
        first_meltano_version,
        first_meltano_major_version,
        first_active_date,
        last_qualifying_date,
        is_excluded_random_id,
        is_excluded_ci_only,
        is_excluded_opted_out,
        is_excluded_short_lifespan,
        is_excluded_old_version,
        not(
            is_excluded_random_id
            or is_excluded_ci_only
            or is_excluded_opted_out
            or is_excluded_short_lifespan
            or is_excluded_old_version
        ) as is_new_project
    from flagged

)

select * from final
