{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_id',
        post_hook=["{{ telemetry_kpis.create_index(['event_id'], 'event_id') }}"],
    )
}}

{#- project_context, any version, fields by name: one row per event (its first one). -#}

{%- set fields = [
    ['context_uuid'],
    ['project_uuid'],
    ['project_uuid_source'],
    ['client_uuid'],
    ['environment_name_hash'],
    ['send_anonymous_usage_stats'],
    ['send_anonymous_usage_stats_source'],
] %}

with contexts as (

    select * from {{ ref('int_event_contexts') }}
    where
        {{ telemetry_kpis.changed_since_last_run() }}
        and schema_vendor = 'com.meltano' and schema_name = 'project_context'

),

-- An event carries one project_context; should it carry several, the first one counts.
first_contexts as (

    select
        event_id,
        min(context_index) as context_index
    from contexts
    group by event_id

),

parsed as (

    select
        contexts.event_id,
        contexts.context_index,
        contexts.schema_version,
        {{ telemetry_kpis.json_parse('contexts.context_data', fields) }} as context_doc,
        contexts._kept_at
    from contexts
    inner join first_contexts
        on
            contexts.event_id = first_contexts.event_id
            and contexts.context_index = first_contexts.context_index

),

typed as (

    select
        event_id,
        context_index,
        schema_version,
        {{ telemetry_kpis.json_field('context_doc', ['context_uuid'], fields) }} as context_uuid,
        {{ telemetry_kpis.json_field('context_doc', ['project_uuid'], fields) }} as project_uuid,
        {{ telemetry_kpis.json_field('context_doc', ['project_uuid_source'], fields) }}
            as project_uuid_source,
        {{ telemetry_kpis.json_field('context_doc', ['client_uuid'], fields) }} as client_uuid,
        {{ telemetry_kpis.json_field('context_doc', ['environment_name_hash'], fields) }}
            as environment_name_hash,
        {{ telemetry_kpis.json_field('context_doc', ['send_anonymous_usage_stats'], fields) }}
            as send_anonymous_usage_stats_text,
        {{ telemetry_kpis.json_field(
            'context_doc', ['send_anonymous_usage_stats_source'], fields
        ) }}
            as send_anonymous_usage_stats_source,
        _kept_at
    from parsed

),

final as (

    select
        event_id,
        context_index,
        schema_version,
        context_uuid,
        project_uuid,
        project_uuid_source,
        client_uuid,
        environment_name_hash,
        send_anonymous_usage_stats_source,
        _kept_at,
        case send_anonymous_usage_stats_text
            when 'true' then true
            when 'false' then false
        end as send_anonymous_usage_stats
    from typed

)

select * from final
