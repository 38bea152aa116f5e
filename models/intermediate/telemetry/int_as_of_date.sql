{{ config(materialized='table') }}

{#-
    The as-of date of every mart: the var `as_of_date` when set, otherwise the UTC date of the
    newest parsed event. Events after it are ignored by every mart. A one-row table, not the
    folder's view: a dozen models read it, and each would scan every event again.
-#}
with

events as (

    select * from {{ ref('int_telemetry_events') }}

),

newest_event as (

    select max(event_date) as newest_event_date
    from events

),

as_of as (

    select
        {%- if var('as_of_date') %}
            cast('{{ var("as_of_date") }}' as date) as as_of_date,
            true as is_as_of_date_from_var
        {%- else %}
            newest_event_date as as_of_date,
            false as is_as_of_date_from_var
        {%- endif %}
    from newest_event

),

events_until_as_of as (

    select
        min(events.event_at) as first_event_at,
        max(events.event_at) as newest_event_at,
        count(*) as event_count
    from events
    inner join as_of
        on events.event_date <= as_of.as_of_date

),

final as (

    select
        as_of.as_of_date,
        cast({{ dbt.dateadd('day', 1, 'as_of.as_of_date') }} as timestamp) as as_of_at,
        as_of.is_as_of_date_from_var,
        events_until_as_of.first_event_at,
        cast(events_until_as_of.first_event_at as date) as first_event_date,
        events_until_as_of.newest_event_at,
        events_until_as_of.event_count
    from as_of
    cross join events_until_as_of
    where as_of.as_of_date is not null

)

select * from final
