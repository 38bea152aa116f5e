{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_id',
        post_hook=["{{ telemetry_kpis.create_index(['event_id'], 'event_id') }}"],
    )
}}

{#-
    cli_context, any version, one row per context (an event carries one per command level:
    `cli`, then e.g. `config`, then `set`). 1-0-0 has command/sub_command/option_keys; 1-1-0
    has command/parent_command_hint/options. Unknown later versions are parsed by field name.
-#}

{%- set fields = [
    ['command'],
    ['parent_command_hint'],
    ['sub_command'],
    ['options', 'blocks'],
    ['options', 'environment'],
] %}

{%- set subdocs = [
    ['option_keys'],
    ['options'],
] %}

with contexts as (

    select * from {{ ref('int_event_contexts') }}
    where
        {{ telemetry_kpis.changed_since_last_run() }}
        and schema_vendor = 'com.meltano' and schema_name = 'cli_context'

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
        {{ telemetry_kpis.json_field('context_doc', ['command'], fields) }} as command,
        {{ telemetry_kpis.json_field('context_doc', ['parent_command_hint'], fields) }}
            as parent_command_hint,
        {{ telemetry_kpis.json_field('context_doc', ['sub_command'], fields) }} as sub_command,
        {{ telemetry_kpis.json_subdoc('context_subdocs', ['option_keys'], subdocs) }}
            as option_keys,
        {{ telemetry_kpis.json_subdoc('context_subdocs', ['options'], subdocs) }}
            as command_options,
        {{ telemetry_kpis.json_field('context_doc', ['options', 'blocks'], fields) }}
            as option_blocks,
        {{ telemetry_kpis.json_field('context_doc', ['options', 'environment'], fields) }}
            as option_environment_hash,
        _kept_at
    from parsed

)

select * from final
