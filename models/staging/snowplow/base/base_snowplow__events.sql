{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['_load_id', '_source_line'],
        pre_hook=[
            "{{ telemetry_kpis.create_engine_functions() }}",
            "{{ telemetry_kpis.ensure_source_load_index(source('snowplow', 'snowplow_events')) }}",
        ],
        post_hook=[
            "{{ telemetry_kpis.create_index(['event_id'], 'event_id') }}",
            "{{ telemetry_kpis.create_index(['_batch_at'], 'batch_at') }}",
        ],
    )
}}

{#-
    Every raw row, once, with every check that depends on the row alone, and no personal data
    (the IP address becomes its SHA-256 here). The big JSON columns are read here and not kept:
    `unstruct_event` is parsed once into the event schema and the small `event_data`;
    `contexts` is parsed once for its envelope only (a JSON object with a `data` array; which
    com.meltano contexts it has; whether a project context has a project_uuid) and is exploded
    later from the raw table by int_event_contexts, for kept copies only.

    Incremental by load: a run reads the raw rows of the loads it has not processed yet
    (`_load_id` above the newest one here, minus var('load_id_lookback')), never by a time that
    came from a file, so a back-filled file with old upload times is read by the next run.
    Rows are keyed by their load and line (`_load_id`, `_source_line`). Every row written in a
    run gets that run's `_batch_at`.

    row_hash (the last dedup tie-breaker) is the SHA-256 of the whole row. It only decides
    between copies of one event_id with the same uploaded_at and collector time, so it is only
    computed for those copies (hashing every multi-KB row would dominate the build), including
    a copy of an earlier load that a new copy ties with (read again).
-#}

{%- set known_event_names = [
    'cli_event', 'block_event', 'exit_event', 'telemetry_state_change_event',
] %}
{%- set known_event_list = "'" ~ known_event_names | join("', '") ~ "'" %}
{%- set max_ahead_hours = var('max_event_clock_ahead_hours') | int %}

-- not_materialized(): each reference is a scan of only the columns it needs, not a copy.
with raw_rows as {{ telemetry_kpis.not_materialized() }} (

    select * from {{ source('snowplow', 'snowplow_events') }}

),

{% if is_incremental() %}

load_cursor as (

    select coalesce(max(_load_id), 0) - {{ var('load_id_lookback') | int }} as last_load_id
    from {{ this }}

),

{% endif %}

new_rows as {{ telemetry_kpis.not_materialized() }} (

    select * from raw_rows
    {%- if is_incremental() %}
    where _load_id > (select load_cursor.last_load_id from load_cursor)
    {%- endif %}

),

-- What orders copies before the row hash: event_id, upload time, collector time.
new_tie_keys as {{ telemetry_kpis.not_materialized() }} (

    select
        nullif({{ telemetry_kpis.trim_whitespace('event_id') }}, '') as event_id,
        cast(uploaded_at as timestamp) as uploaded_at,
        {{ telemetry_kpis.try_timestamp('collector_tstamp') }} as collector_at
    from new_rows

),

{% if is_incremental() %}

-- Copies processed in an earlier run without a row hash that tie with a new copy (same
-- event_id, upload time and collector time: a replayed or conflicting copy). Only the hash can
-- order them, so they are read again from raw (by their identity) and hashed with the new one:
-- the same order as a full refresh. Usually none.
retied_rows as (

    select
        this_model._load_id,
        this_model._source_line,
        this_model.event_id,
        this_model.uploaded_at,
        this_model.collector_at
    from {{ this }} as this_model
    inner join (select distinct * from new_tie_keys) as new_keys
        on
            this_model.event_id = new_keys.event_id
            and this_model.uploaded_at = new_keys.uploaded_at
            and this_model.collector_at = new_keys.collector_at
    where
        this_model.row_hash is null
        and this_model._load_id <= (select load_cursor.last_load_id from load_cursor)

),

{% endif %}

-- Read twice (tied rows, every row) with new_tie_keys a third time.
source as {{ telemetry_kpis.not_materialized() }} (

    select * from new_rows
    {%- if is_incremental() %}
    union all
    select raw_rows.*
    from raw_rows
    inner join retied_rows
        on
            raw_rows._load_id = retied_rows._load_id
            and raw_rows._source_line = retied_rows._source_line
    {%- endif %}

),

typed as (

    select
        nullif({{ telemetry_kpis.trim_whitespace('event_id') }}, '') as event_id,
        nullif(trim(event), '') as event_type,
        collector_tstamp,
        derived_tstamp,
        {{ telemetry_kpis.try_timestamp('collector_tstamp') }} as collector_at,
        {{ telemetry_kpis.try_timestamp('derived_tstamp') }} as event_at,
        {{ telemetry_kpis.try_timestamp('dvce_created_tstamp') }} as device_created_at,
        {{ telemetry_kpis.try_timestamp('dvce_sent_tstamp') }} as device_sent_at,
        cast(uploaded_at as timestamp) as uploaded_at,
        {{ telemetry_kpis.sha256_hex('user_ipaddress') }} as ip_hash,
        app_id,
        platform,
        name_tracker,
        v_tracker,
        useragent,
        nullif(contexts, '') as contexts,
        nullif(unstruct_event, '') as unstruct_event,
        nullif(se_category, '') as se_category,
        nullif(se_action, '') as se_action,
        nullif(se_label, '') as se_label,
        nullif(se_property, '') as se_property,
        nullif(se_value, '') as se_value,
        _source_file,
        cast(_source_line as {{ dbt.type_bigint() }}) as _source_line,
        cast(_load_id as {{ dbt.type_bigint() }}) as _load_id,
        cast(_loaded_at as timestamp) as _loaded_at
    from source

),

-- The parsed envelope and the validators are read by several expressions below:
-- evaluate_once() makes each run once per row on every engine.
parsed as (

    select
        *,
        {{ telemetry_kpis.parse_contexts_envelope('contexts') }} as contexts_envelope,
        unstruct_event is null
        or {{ telemetry_kpis.json_is_valid('unstruct_event') }} as is_unstruct_event_valid
    from typed
    {{ telemetry_kpis.evaluate_once() }}

),

checked as (

    select
        *,
        contexts is null or (
            {{ telemetry_kpis.contexts_envelope_is_valid('contexts_envelope') }}
            and {{ telemetry_kpis.json_without_nul_escape('contexts') }}
        ) as is_contexts_json,
        -- a case, not `and`: engines may evaluate both sides of `and`, and a JSON function
        -- raises on text that is not JSON
        unstruct_event is null or case
            when is_unstruct_event_valid
                then {{ telemetry_kpis.json_is_object('unstruct_event', ['data']) }}
            else false
        end as is_unstruct_event_json
    from parsed
    {{ telemetry_kpis.evaluate_once() }}

),

row_checked as (

    select
        *,
        case
            when event_id is null then 'missing_event_id'
            when not is_contexts_json or not is_unstruct_event_json then 'invalid_json'
            when event_at is null or collector_at is null then 'invalid_timestamp'
            when
                event_at > {{ dbt.dateadd('hour', max_ahead_hours, 'collector_at') }}
                or event_at < cast('{{ var("min_event_date") }}' as timestamp)
                or collector_at > {{ dbt.dateadd('hour', max_ahead_hours, 'uploaded_at') }}
                then 'implausible_timestamp'
        end as row_problem,
        case
            when event_id is null then 'event_id is null or empty'
            when not is_contexts_json
                then 'contexts is not a JSON object with a data array'
            when not is_unstruct_event_json
                then 'unstruct_event is not a JSON object with a data object'
            when event_at is null
                then 'derived_tstamp is not a timestamp: ' || coalesce(derived_tstamp, 'null')
            when collector_at is null
                then 'collector_tstamp is not a timestamp: ' || coalesce(collector_tstamp, 'null')
            when event_at > {{ dbt.dateadd('hour', max_ahead_hours, 'collector_at') }}
                then
                    'derived_tstamp ' || derived_tstamp || ' is more than '
                    || '{{ max_ahead_hours }} hours after collector_tstamp ' || collector_tstamp
            when event_at < cast('{{ var("min_event_date") }}' as timestamp)
                then
                    'derived_tstamp ' || derived_tstamp
                    || ' is before {{ var("min_event_date") }}'
            when collector_at > {{ dbt.dateadd('hour', max_ahead_hours, 'uploaded_at') }}
                then
                    'collector_tstamp ' || collector_tstamp || ' is more than '
                    || '{{ max_ahead_hours }} hours after the row was loaded'
        end as row_problem_detail
    from checked

),

schema_parsed as (

    select
        *,
        case
            when is_unstruct_event_json
                then {{ telemetry_kpis.json_text('unstruct_event', ['data', 'schema']) }}
        end as event_schema,
        case
            when is_unstruct_event_json
                then {{ telemetry_kpis.json_sub('unstruct_event', ['data', 'data']) }}
        end as event_data,
        is_contexts_json and {{ telemetry_kpis.contexts_envelope_has(
            'contexts_envelope', 'iglu:com.meltano/'
        ) }} as has_contexts,
        is_contexts_json and {{ telemetry_kpis.contexts_envelope_has(
            'contexts_envelope', 'iglu:com.meltano/project_context/', with_project_uuid=true
        ) }} as has_project_context
    from row_checked
    {{ telemetry_kpis.evaluate_once() }}

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

content_checked as (

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
            when
                event_type = 'unstruct' and not has_project_context
                and event_schema_vendor = 'com.meltano'
                and event_schema_name in ({{ known_event_list }})
                then 'no com.meltano project_context with a project_uuid'
            when event_type = 'unstruct'
                then 'event schema ' || event_schema
            when
                event_type = 'struct'
                and (se_category is null or se_category not like 'meltano%')
                then 'struct event category ' || coalesce(se_category, 'null')
            when event_type = 'struct' and has_contexts
                then 'struct event with contexts but no project_context with a project_uuid'
            else 'struct event without contexts and without se_label'
        end as content_problem_detail
    from schema_split

),

tie_keys as (

    select
        event_id,
        uploaded_at,
        collector_at
    from new_tie_keys
    {%- if is_incremental() %}
    union all
    select
        event_id,
        uploaded_at,
        collector_at
    from retied_rows
    {%- endif %}

),

tied_copies as (

    select
        event_id,
        uploaded_at,
        collector_at
    from tie_keys
    where event_id is not null and collector_at is not null
    group by event_id, uploaded_at, collector_at
    having count(*) > 1

),

tied_hashes as (

    select distinct
        cast(source._load_id as {{ dbt.type_bigint() }}) as _load_id,
        cast(source._source_line as {{ dbt.type_bigint() }}) as _source_line,
        {{ telemetry_kpis.sha256_hex(telemetry_kpis.raw_row_text('source')) }} as row_hash
    from source
    inner join tied_copies
        on
            nullif({{ telemetry_kpis.trim_whitespace('source.event_id') }}, '')
            = tied_copies.event_id
            and cast(source.uploaded_at as timestamp) = tied_copies.uploaded_at
            and {{ telemetry_kpis.try_timestamp('source.collector_tstamp') }}
            = tied_copies.collector_at

),

final as (

    select
        content_checked.event_id,
        content_checked.event_type,
        content_checked.collector_tstamp,
        content_checked.derived_tstamp,
        content_checked.collector_at,
        content_checked.event_at,
        content_checked.device_created_at,
        content_checked.device_sent_at,
        content_checked.uploaded_at,
        content_checked.ip_hash,
        content_checked.app_id,
        content_checked.platform,
        content_checked.name_tracker,
        content_checked.v_tracker,
        content_checked.useragent,
        content_checked.se_category,
        content_checked.se_action,
        content_checked.se_label,
        content_checked.se_property,
        content_checked.se_value,
        content_checked._source_file,
        content_checked._source_line,
        content_checked._load_id,
        content_checked._loaded_at,
        tied_hashes.row_hash,
        content_checked.is_contexts_json,
        content_checked.is_unstruct_event_json,
        content_checked.row_problem,
        content_checked.row_problem_detail,
        content_checked.event_schema,
        content_checked.event_data,
        content_checked.has_contexts,
        content_checked.has_project_context,
        content_checked.event_schema_vendor,
        content_checked.event_schema_name,
        content_checked.event_schema_format,
        content_checked.event_schema_version,
        case
            when content_checked.row_problem is null then content_checked.content_problem
        end as content_problem,
        case
            when content_checked.row_problem is null
                then content_checked.content_problem_detail
        end as content_problem_detail,
        {{ telemetry_kpis.batch_at() }} as _batch_at
    from content_checked
    left join tied_hashes
        on
            content_checked._load_id = tied_hashes._load_id
            and content_checked._source_line = tied_hashes._source_line

)

select * from final
