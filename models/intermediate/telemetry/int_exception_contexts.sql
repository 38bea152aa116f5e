{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_id',
        post_hook=["{{ telemetry_kpis.create_index(['event_id'], 'event_id') }}"],
    )
}}

{#- exception_context, any version: one row per context. -#}

{%- set fields = [
    ['context_uuid'],
    ['exception', 'type'],
    ['exception', 'str_hash'],
    ['exception', 'repr_hash'],
] %}

{%- set subdocs = [
    ['exception', 'traceback'],
    ['exception', 'cause'],
    ['exception', 'context'],
] %}

with contexts as (

    select * from {{ ref('int_event_contexts') }}
    where
        {{ telemetry_kpis.changed_since_last_run() }}
        and schema_vendor = 'com.meltano' and schema_name = 'exception_context'

),

parsed as (

    select
        *,
        {{ telemetry_kpis.json_parse('context_data', fields) }} as context_doc,
        {{ telemetry_kpis.json_parse_subdocs('context_data', subdocs) }} as context_subdocs
    from contexts

),

final as (

    select
        event_id,
        context_index,
        schema_version,
        {{ telemetry_kpis.json_field('context_doc', ['context_uuid'], fields) }} as context_uuid,
        {{ telemetry_kpis.json_field('context_doc', ['exception', 'type'], fields) }}
            as exception_type,
        {{ telemetry_kpis.json_field('context_doc', ['exception', 'str_hash'], fields) }}
            as exception_str_hash,
        {{ telemetry_kpis.json_field('context_doc', ['exception', 'repr_hash'], fields) }}
            as exception_repr_hash,
        {{ telemetry_kpis.json_subdoc('context_subdocs', ['exception', 'traceback'], subdocs) }}
            as exception_traceback,
        {{ telemetry_kpis.json_subdoc('context_subdocs', ['exception', 'cause'], subdocs) }}
            as exception_cause,
        {{ telemetry_kpis.json_subdoc('context_subdocs', ['exception', 'context'], subdocs) }}
            as exception_context,
        {{ telemetry_kpis.json_field('context_doc', ['exception', 'type'], fields) }} is not null
            as has_exception,
        _kept_at
    from parsed

)

select * from final
