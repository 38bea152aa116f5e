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

ranked as (

    select
        *,
        {{ telemetry_kpis.json_parse('context_data', fields) }} as context_doc,
        row_number() over (partition by event_id order by context_index) as context_rank
    from contexts

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
    from ranked
    where context_rank = 1

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
