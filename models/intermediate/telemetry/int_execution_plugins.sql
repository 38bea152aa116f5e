{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='execution_id',
        pre_hook=["{{ telemetry_kpis.forget_executions_of_removed_events() }}"],
        post_hook=["{{ telemetry_kpis.create_index(['execution_id'], 'execution_id') }}"],
    )
}}

{#-
    One row per (execution_id, plugin_name_hash, plugin_command) seen in the plugins_contexts
    of the execution's events (for `meltano run` they arrive on block events). A plugin sent
    with "command": [] has a null plugin_command and is_command_list = true.

    Incremental (by batch marker): the executions with an event whose kept copy changed since
    the newest `_changed_at` here (tombstones of removed events included) are recomputed from
    ALL their events and replaced (delete+insert on execution_id; a pre-hook first deletes
    the executions that lost an event).
-#}

with attributed_events as (

    select * from {{ ref('int_telemetry_events') }}

),

all_events as (

    select * from attributed_events
    where is_execution_event

),

{% if is_incremental() %}

affected_executions as (

    select distinct execution_id from attributed_events
    where {{ telemetry_kpis.changed_in_window('_kept_at') }}

),

{% endif %}

events as (

    select * from all_events
    {%- if is_incremental() %}
    where execution_id in (select affected_executions.execution_id from affected_executions)
    {%- endif %}

),

plugin_entries as (

    select * from {{ ref('int_plugin_entries') }}
    -- an entry that is not an object with a name_hash is not a plugin (warn_untyped_values)
    where plugin_name_hash is not null

),

joined as (

    select
        events.execution_id,
        events.project_id,
        plugin_entries.plugin_name_hash,
        plugin_entries.plugin_command,
        plugin_entries.plugin_category,
        plugin_entries.plugin_parent_name_hash,
        plugin_entries.plugin_variant_name_hash,
        plugin_entries.plugin_pip_url_hash,
        plugin_entries.plugin_namespace_hash,
        plugin_entries.plugin_executable_hash,
        plugin_entries.is_command_list,
        events.event_at,
        events.uploaded_at
    from events
    inner join plugin_entries on events.event_id = plugin_entries.event_id

),

final as (

    select
        execution_id,
        plugin_name_hash,
        plugin_command,
        min(project_id) as project_id,
        min(plugin_category) as plugin_category,
        min(plugin_parent_name_hash) as plugin_parent_name_hash,
        min(plugin_variant_name_hash) as plugin_variant_name_hash,
        min(plugin_pip_url_hash) as plugin_pip_url_hash,
        min(plugin_namespace_hash) as plugin_namespace_hash,
        min(plugin_executable_hash) as plugin_executable_hash,
        {{ dbt.bool_or("is_command_list") }} as is_command_list,
        count(*) as entry_count,
        min(event_at) as first_seen_at,
        max(uploaded_at) as last_uploaded_at,
        {{ telemetry_kpis.batch_at() }} as _changed_at
    from joined
    group by execution_id, plugin_name_hash, plugin_command

)

select * from final
