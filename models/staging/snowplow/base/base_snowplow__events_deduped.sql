{{ config(materialized='table') }}

{#-
    Rows without a row-level problem, ranked per event_id in the contract's deterministic order
    (earliest uploaded_at, then earliest collector time, then the smallest hash of the whole
    row; file and line only break exact ties), with the event schema split and the content
    checks that decide whether the kept copy (copy_rank = 1) is usable.
-#}

{%- set known_event_names = [
    'cli_event', 'block_event', 'exit_event', 'telemetry_state_change_event',
] %}
{%- set known_event_list = "'" ~ known_event_names | join("', '") ~ "'" %}

with events as (

    select * from {{ ref('base_snowplow__events') }}
    where row_problem is null

),

ranked as (

    select
        *,
        row_number() over (
            partition by event_id
            order by
                uploaded_at asc nulls last,
                collector_at asc,
                row_hash asc,
                _source_file asc nulls last,
                _source_line asc nulls last
        ) as copy_rank,
        count(*) over (partition by event_id) - 1 as duplicate_count
    from events

),

schema_parsed as (

    select
        *,
        {{ telemetry_kpis.json_text('unstruct_event', ['data', 'schema']) }} as event_schema,
        {{ telemetry_kpis.json_sub('unstruct_event', ['data', 'data']) }} as event_data,
        coalesce(contexts like '%"iglu:com.meltano/%', false) as has_contexts,
        coalesce(
            contexts like '%"iglu:com.meltano/project_context/%', false
        ) as has_project_context
    from ranked

),

schema_split as (

    select
        *,
        nullif(
            replace({{ dbt.split_part('event_schema', "'/'", 1) }}, 'iglu:', ''), ''
        ) as event_schema_vendor,
        nullif({{ dbt.split_part('event_schema', "'/'", 2) }}, '') as event_schema_name,
        nullif({{ dbt.split_part('event_schema', "'/'", 3) }}, '') as event_schema_format,
        nullif({{ dbt.split_part('event_schema', "'/'", 4) }}, '') as event_schema_version
    from schema_parsed

),

final as (

    select
        *,
        case
            when event_type not in ('unstruct', 'struct') or event_type is null
                then 'unknown_event'
            when
                event_type = 'unstruct'
                and (
                    event_schema_vendor is null
                    or event_schema_vendor != 'com.meltano'
                    or event_schema_name is null
                    or event_schema_name not in ({{ known_event_list }})
                )
                then 'unknown_event'
            when
                event_type = 'struct'
                and (se_category is null or se_category not like 'meltano%')
                then 'unknown_event'
            when event_type = 'unstruct' and not has_project_context
                then 'missing_project_context'
            when event_type = 'struct' and has_contexts and not has_project_context
                then 'missing_project_context'
            when event_type = 'struct' and not has_contexts and se_label is null
                then 'missing_project_context'
        end as content_problem,
        case
            when event_type not in ('unstruct', 'struct') or event_type is null
                then 'event type ' || coalesce(event_type, 'null') || ' is not used'
            when event_type = 'unstruct' and event_schema is null
                then 'unstruct_event has no data.schema'
            when event_type = 'unstruct'
                then 'event schema ' || event_schema
            when
                event_type = 'struct'
                and (se_category is null or se_category not like 'meltano%')
                then 'struct event category ' || coalesce(se_category, 'null')
            when event_type = 'struct' and has_contexts
                then 'struct event with contexts but no project_context'
            else 'struct event without contexts and without se_label'
        end as content_problem_detail
    from schema_split

)

select * from final
