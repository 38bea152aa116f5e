{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_id',
        pre_hook=["{{ telemetry_kpis.forget_unusable_events() }}"],
        post_hook=["{{ telemetry_kpis.create_index(['event_id'], 'event_id') }}"],
    )
}}

{#-
    exception_context, any version: one row per context. The fields were parsed by
    int_event_contexts (one parse per context).
-#}

-- depends_on: {{ ref('stg_snowplow__events_quarantine') }}

with contexts as (

    select * from {{ ref('int_event_contexts') }}
    where
        {{ telemetry_kpis.changed_since_last_run() }}
        and schema_vendor = 'com.meltano' and schema_name = 'exception_context'

),

final as (

    select
        event_id,
        context_index,
        schema_version,
        context_uuid,
        exception_type,
        exception_str_hash,
        exception_repr_hash,
        exception_traceback,
        exception_cause,
        exception_context,
        _kept_at,
        exception_type is not null as has_exception
    from contexts

)

select * from final
