{#-
    The project attributes of metrics.md "Project attributes", up to the as-of
    date: first/last event, lifespan, ID source with the persisted_random promotion, CI-only,
    opted out, first Meltano version. Read from int_cli_executions (none of these attributes
    depends on how an execution is classified), so that int_executions_classified can use
    them. dim_projects adds activity and the new-project rule.
-#}
with

events as (

    select * from {{ ref('int_telemetry_events') }}

),

all_executions as (

    select * from {{ ref('int_cli_executions') }}

),

state_changes as (

    select * from {{ ref('int_telemetry_state_changes') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

-- executions count up to the as-of date, by their start day
executions as (

    select all_executions.*
    from all_executions
    inner join as_of
        on all_executions.execution_date <= as_of.as_of_date

),

project_events as (

    select
        events.project_id,
        min(events.event_at) as first_event_at,
        max(events.event_at) as last_event_at,
        count(*) as event_count,
        count(distinct events.ip_hash) as ip_hash_count
    from events
    inner join as_of
        on events.event_date <= as_of.as_of_date
    group by events.project_id

),

-- ID source: the first non-null source among non-`init` executions, by time
id_source_candidates as (

    select
        project_id,
        project_uuid_source,
        row_number() over (
            partition by project_id
            order by started_at, execution_id
        ) as source_rank
    from executions
    where
        project_uuid_source is not null
        and command <> 'init'

),

first_id_sources as (

    select
        project_id,
        project_uuid_source as first_project_uuid_source
    from id_source_candidates
    where source_rank = 1

),

version_candidates as (

    select
        project_id,
        meltano_version,
        row_number() over (
            partition by project_id
            order by started_at, execution_id
        ) as version_rank
    from executions
    where meltano_version is not null

),

first_versions as (

    select
        project_id,
        meltano_version as first_meltano_version,
        {{ dbt.split_part('meltano_version', "'.'", 1) }} as first_meltano_major_text
    from version_candidates
    where version_rank = 1

),

project_executions as (

    select
        project_id,
        count(*) as execution_count,
        min(case when is_ci_environment then 1 else 0 end) = 1 as is_ci_only
    from executions
    group by project_id

),

opt_outs as (

    select
        state_changes.project_id,
        min(state_changes.event_at) as opted_out_at
    from state_changes
    inner join as_of
        on cast(state_changes.event_at as date) <= as_of.as_of_date
    where
        state_changes.setting_name = 'send_anonymous_usage_stats'
        and state_changes.changed_to = 'false'
    group by state_changes.project_id

),

joined as (

    select
        project_events.project_id,
        project_events.first_event_at,
        project_events.last_event_at,
        cast(project_events.first_event_at as date) as first_event_date,
        cast(project_events.last_event_at as date) as last_event_date,
        cast(
            {{ telemetry_kpis.seconds_between(
                'project_events.first_event_at', 'project_events.last_event_at'
            ) }} as {{ telemetry_kpis.type_double() }}
        ) as lifespan_seconds,
        project_events.event_count,
        project_events.ip_hash_count,
        first_id_sources.first_project_uuid_source,
        opt_outs.opted_out_at,
        first_versions.first_meltano_version,
        coalesce(project_executions.execution_count, 0) as execution_count,
        coalesce(project_executions.is_ci_only, false) as is_ci_only,
        opt_outs.opted_out_at is not null as is_opted_out,
        case
            when
                {{ telemetry_kpis.regex_matches(
                    'first_versions.first_meltano_major_text', "'^[0-9]{1,9}$'"
                ) }}
                then cast(first_versions.first_meltano_major_text as integer)
        end as first_meltano_major_version,
        -- strictly more than N days of lifespan (exactly N days is not enough)
        project_events.last_event_at > {{ dbt.dateadd(
            'day',
            var('persisted_random_min_lifespan_days'),
            'project_events.first_event_at'
        ) }} as has_persisted_lifespan
    from project_events
    left join first_id_sources
        on project_events.project_id = first_id_sources.project_id
    left join first_versions
        on project_events.project_id = first_versions.project_id
    left join project_executions
        on project_events.project_id = project_executions.project_id
    left join opt_outs
        on project_events.project_id = opt_outs.project_id

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
        case
            when first_project_uuid_source is null then 'unknown'
            when
                first_project_uuid_source = 'random'
                and ip_hash_count >= {{ var('persisted_random_min_ip_hashes') }}
                and has_persisted_lifespan
                then 'persisted_random'
            else first_project_uuid_source
        end as project_id_source,
        is_ci_only,
        is_opted_out,
        opted_out_at,
        first_meltano_version,
        first_meltano_major_version
    from joined

)

select * from final
