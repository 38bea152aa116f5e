{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_id',
        post_hook=["{{ telemetry_kpis.create_index(['event_id'], 'event_id') }}"],
    )
}}

{#-
    The entries of every plugins_context, one row each. Meltano 4.x block events send
    "command": [] for extract-load plugins (outside the schema): the command is then null and
    is_command_list is true, so nothing fails and the case stays visible.
-#}

with contexts as (

    select * from {{ ref('int_event_contexts') }}
    where
        {{ telemetry_kpis.changed_since_last_run() }}
        and schema_vendor = 'com.meltano' and schema_name = 'plugins_context'

),

exploded as (

    select
        contexts.event_id,
        contexts.context_index,
        contexts.schema_version,
        {{ telemetry_kpis.json_text('contexts.context_data', ['context_uuid']) }}
            as plugins_context_uuid,
        plugins_array.element_index as plugin_index,
        {{ telemetry_kpis.json_parse('plugins_array.element') }} as plugin_doc,
        contexts._kept_at
    from contexts
    {{ telemetry_kpis.explode_json_array('contexts.context_data', 'plugins', 'plugins_array') }}

),

typed as (

    select
        event_id,
        context_index,
        plugin_index,
        schema_version,
        plugins_context_uuid,
        {{ telemetry_kpis.json_field('plugin_doc', ['category']) }} as plugin_category,
        {{ telemetry_kpis.json_field('plugin_doc', ['name_hash']) }} as plugin_name_hash,
        {{ telemetry_kpis.json_field('plugin_doc', ['namespace_hash']) }}
            as plugin_namespace_hash,
        {{ telemetry_kpis.json_field('plugin_doc', ['executable_hash']) }}
            as plugin_executable_hash,
        {{ telemetry_kpis.json_field('plugin_doc', ['variant_name_hash']) }}
            as plugin_variant_name_hash,
        {{ telemetry_kpis.json_field('plugin_doc', ['parent_name_hash']) }}
            as plugin_parent_name_hash,
        {{ telemetry_kpis.json_field('plugin_doc', ['pip_url_hash']) }} as plugin_pip_url_hash,
        {{ telemetry_kpis.json_field('plugin_doc', ['plugin_lock_hash']) }}
            as plugin_lock_hash,
        {{ telemetry_kpis.json_field('plugin_doc', ['command']) }} as command_text,
        {{ telemetry_kpis.json_field_is_array('plugin_doc', ['command']) }} as is_command_list,
        _kept_at
    from exploded

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
