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
    The entries of every plugins_context, one row each. Meltano 4.x block events send
    "command": [] for extract-load plugins (outside the schema): the command is then null and
    is_command_list is true, so nothing fails and the case stays visible. The plugins array
    comes from int_event_contexts as JSON text; each entry is parsed once here.
-#}

-- depends_on: {{ ref('stg_snowplow__events_quarantine') }}

{%- set fields = [
    ['category'],
    ['name_hash'],
    ['namespace_hash'],
    ['executable_hash'],
    ['variant_name_hash'],
    ['parent_name_hash'],
    ['pip_url_hash'],
    ['plugin_lock_hash'],
    ['command'],
] %}

with contexts as (

    select * from {{ ref('int_event_contexts') }}
    where
        {{ telemetry_kpis.changed_since_last_run() }}
        and schema_vendor = 'com.meltano' and schema_name = 'plugins_context'

),

plugins_contexts as (

    select
        event_id,
        context_index,
        schema_version,
        context_uuid as plugins_context_uuid,
        plugins,
        _kept_at
    from contexts

),

exploded as (

    {{ telemetry_kpis.explode_json_array(
        'plugins_contexts', 'plugins', none,
        ['event_id', 'context_index', 'schema_version', 'plugins_context_uuid', '_kept_at']
    ) }}

),

parsed as (

    select
        *,
        element_index as plugin_index,
        {{ telemetry_kpis.json_parse('element', fields) }} as plugin_doc
    from exploded
    {{ telemetry_kpis.evaluate_once() }}

),

typed as (

    select
        event_id,
        context_index,
        plugin_index,
        schema_version,
        plugins_context_uuid,
        {{ telemetry_kpis.json_field('plugin_doc', ['category'], fields) }} as plugin_category,
        {{ telemetry_kpis.json_field('plugin_doc', ['name_hash'], fields) }} as plugin_name_hash,
        {{ telemetry_kpis.json_field('plugin_doc', ['namespace_hash'], fields) }}
            as plugin_namespace_hash,
        {{ telemetry_kpis.json_field('plugin_doc', ['executable_hash'], fields) }}
            as plugin_executable_hash,
        {{ telemetry_kpis.json_field('plugin_doc', ['variant_name_hash'], fields) }}
            as plugin_variant_name_hash,
        {{ telemetry_kpis.json_field('plugin_doc', ['parent_name_hash'], fields) }}
            as plugin_parent_name_hash,
        {{ telemetry_kpis.json_field('plugin_doc', ['pip_url_hash'], fields) }}
            as plugin_pip_url_hash,
        {{ telemetry_kpis.json_field('plugin_doc', ['plugin_lock_hash'], fields) }}
            as plugin_lock_hash,
        {{ telemetry_kpis.json_field('plugin_doc', ['command'], fields) }} as command_text,
        {{ telemetry_kpis.json_is_array('element', ['command']) }} as is_command_list,
        _kept_at
    from parsed

),

final as (

    select
        event_id,
        context_index,
        plugin_index,
        schema_version,
        plugins_context_uuid,
        plugin_category,
        plugin_name_hash,
        plugin_namespace_hash,
        plugin_executable_hash,
        plugin_variant_name_hash,
        plugin_parent_name_hash,
        plugin_pip_url_hash,
        plugin_lock_hash,
        is_command_list,
        _kept_at,
        case when not is_command_list then command_text end as plugin_command
    from typed

)

select * from final
