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
    cli_context, any version, one row per context (an event carries one per command level:
    `cli`, then e.g. `config`, then `set`). 1-0-0 has command/sub_command; 1-1-0
    has command/parent_command_hint/options. Unknown later versions are read by field name.
    The fields were parsed by int_event_contexts (one parse per context).
-#}

-- depends_on: {{ ref('stg_snowplow__events_quarantine') }}

with contexts as (

    select * from {{ ref('int_event_contexts') }}
    where
        {{ telemetry_kpis.changed_since_last_run() }}
        and schema_vendor = 'com.meltano' and schema_name = 'cli_context'

),

final as (

    select
        event_id,
        context_index,
        schema_version,
        command,
        parent_command_hint,
        sub_command,
        option_blocks,
        option_environment_hash,
        _kept_at
    from contexts

)

select * from final
