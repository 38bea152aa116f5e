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
    Legacy struct events (Meltano < 2.0, and 2.0-2.4 which also sent them, then with
    contexts). se_category is `meltano <command>`, se_label the project id, se_action the
    command line (may hold clear-text names).
-#}

-- depends_on: {{ ref('stg_snowplow__events_quarantine') }}

with events as (

    select * from {{ ref('stg_snowplow__events') }}
    where
        {{ telemetry_kpis.changed_since_last_run() }}
        and event_type = 'struct'

),

final as (

    select
        event_id,
        se_category,
        se_action,
        se_label,
        se_property,
        se_value,
        nullif({{ dbt.split_part('se_category', "' '", 2) }}, '') as legacy_command,
        has_contexts,
        not has_contexts as is_pure_legacy,
        event_at,
        uploaded_at,
        _kept_at
    from events

)

select * from final
