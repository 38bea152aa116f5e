{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_id',
        post_hook=["{{ telemetry_kpis.create_index(['event_id'], 'event_id') }}"],
    )
}}

{#-
    The only place the big `contexts` column is parsed: each kept copy's contexts array
    unnested once, one row per context, with its Iglu schema split and its `data` kept as small
    JSON text for the typed context models. The contexts text is read from the raw row of the
    kept copy (stg_snowplow__events_contexts, by file, line and uploaded_at): no model stores a
    second copy of it.

    Incremental: only events whose kept copy changed since the last run (`_kept_at`) are
    (re)parsed; their rows are replaced (delete+insert on event_id).
-#}

with events as (

    select
        event_id,
        uploaded_at,
        _source_file,
        _source_line,
        _kept_at
    from {{ ref('stg_snowplow__events') }}
    where {{ telemetry_kpis.changed_since_last_run() }}

),

-- Not filtered: the join must build its hash table on the (small) kept events and stream
-- the (big) raw contexts past it; a filter here makes engines guess the raw side is smaller.
-- A null contexts explodes into no rows anyway.
raw_contexts as (

    select * from {{ ref('stg_snowplow__events_contexts') }}

),

kept_contexts as (

    select
        events.event_id,
        events.uploaded_at,
        events._kept_at,
        raw_contexts.contexts
    from events
    inner join raw_contexts
        on
            events._source_file = raw_contexts._source_file
            and events._source_line = raw_contexts._source_line
            and events.uploaded_at = raw_contexts.uploaded_at

),

exploded as (

    {{ telemetry_kpis.explode_json_array(
        'kept_contexts', 'contexts', 'data', ['event_id', 'uploaded_at', '_kept_at']
    ) }}

),

parsed as (

    select
        event_id,
        uploaded_at,
        _kept_at,
        element_index as context_index,
        {{ telemetry_kpis.json_text('element', ['schema']) }} as context_schema,
        {{ telemetry_kpis.json_sub('element', ['data']) }} as context_data
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
        uploaded_at,
        _kept_at
    from parsed

)

select * from final
