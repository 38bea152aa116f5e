{{ config(materialized='table') }}

{#-
    The only place the big `contexts` column is parsed: each event's contexts array unnested
    once, one row per context, with its Iglu schema split and its `data` kept as small JSON
    text for the typed context models.
-#}

with events as (

    select * from {{ ref('stg_snowplow__events') }}
    where contexts is not null

),

exploded as (

    select
        events.event_id,
        events.uploaded_at,
        contexts_array.element_index as context_index,
        contexts_array.element as context_json
    from events
    {{ telemetry_kpis.explode_json_array('events.contexts', 'data', 'contexts_array') }}

),

parsed as (

    select
        event_id,
        uploaded_at,
        context_index,
        {{ telemetry_kpis.json_text('context_json', ['schema']) }} as context_schema,
        {{ telemetry_kpis.json_sub('context_json', ['data']) }} as context_data
    from exploded

),

final as (

    select
        event_id,
        context_index,
        context_schema,
        nullif(
            replace({{ dbt.split_part('context_schema', "'/'", 1) }}, 'iglu:', ''), ''
        ) as schema_vendor,
        nullif({{ dbt.split_part('context_schema', "'/'", 2) }}, '') as schema_name,
        nullif({{ dbt.split_part('context_schema', "'/'", 3) }}, '') as schema_format,
        nullif({{ dbt.split_part('context_schema', "'/'", 4) }}, '') as schema_version,
        context_data,
        uploaded_at
    from parsed

)

select * from final
