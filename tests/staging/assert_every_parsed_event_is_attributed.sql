{#-
    Every parsed event reaches int_telemetry_events exactly once with a project and a process,
    every execution event belongs to an execution of int_cli_executions, and no tombstone (an
    event that left staging) is a parsed event.
-#}

with events as (

    select event_id from {{ ref('stg_snowplow__events') }}

),

attributed as (

    select * from {{ ref('int_telemetry_events') }}

),

executions as (

    select execution_id from {{ ref('int_cli_executions') }}

),

missing as (

    select
        events.event_id,
        'not in int_telemetry_events' as problem
    from events
    left join attributed on events.event_id = attributed.event_id
    where attributed.event_id is null

),

unattributed as (

    select
        event_id,
        'no project or process' as problem
    from attributed
    where project_id is null or execution_id is null

),

orphans as (

    select
        attributed.event_id,
        'execution event without execution' as problem
    from attributed
    left join executions on attributed.execution_id = executions.execution_id
    where attributed.is_execution_event and executions.execution_id is null

),

resurrected as (

    select
        attributed.event_id,
        'tombstone of a parsed event' as problem
    from attributed
    inner join events on attributed.event_id = events.event_id
    where attributed.is_removed

),

final as (

    select * from missing
    union all
    select * from unattributed
    union all
    select * from orphans
    union all
    select * from resurrected

)

select * from final
