{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='execution_id',
        on_schema_change='fail',
        post_hook=[
            "{{ telemetry_kpis.create_index(['execution_id'], 'execution_id') }}",
            "{{ telemetry_kpis.create_index(['last_uploaded_at'], 'last_uploaded_at') }}",
        ],
    )
}}

{#-
    Every CLI execution (int_cli_executions, all dates) with what its pipeline identity is built
    from (metrics.md "Pipelines"): the sorted plugin list, the raw spec (run blocks or plugin
    list) and the SHA-256 of `project_id|environment_name_hash or ''|spec`. Nothing here depends
    on the as-of date, a var or a seed: int_executions_classified (a view) applies those, so a
    new as-of date, a changed var or a changed environment_names seed need no full refresh.

    Incremental (by load time, like its upstreams): an execution's row in int_cli_executions or
    int_execution_plugins changes only when the execution gets a new event (then its
    last_uploaded_at is at least that event's load time) or when its parent process arrives
    (int_cli_executions recomputes the children of every process in its window; their
    last_uploaded_at does not move). So a run recomputes the executions whose last_uploaded_at
    is at or after the newest one here minus var('load_lookback_hours'), plus the executions
    whose parent_context_uuid is the environment_context_uuid of one of those, and replaces
    them (delete+insert on execution_id). This window starts at or before int_cli_executions'
    own (the newest last_uploaded_at here is at most the newest there), so every execution
    with a new event or a new parent is in it; executions the upstream models recompute from
    an earlier window start have no new event and come out unchanged.
-#}

with all_executions as (

    select * from {{ ref('int_cli_executions') }}

),

all_plugins as (

    select * from {{ ref('int_execution_plugins') }}

),

{% if is_incremental() %}

window_executions as (

    select
        execution_id,
        environment_context_uuid
    from all_executions
    where last_uploaded_at >= {{ telemetry_kpis.load_window_start('last_uploaded_at') }}

),

affected_executions as (

    select execution_id from window_executions
    union
    -- children of a process that may be new: their parent_execution_id may have changed
    select all_executions.execution_id
    from all_executions
    inner join window_executions
        on all_executions.parent_context_uuid = window_executions.environment_context_uuid

),

{% endif %}

executions as (

    select * from all_executions
    {%- if is_incremental() %}
    where execution_id in (select affected_executions.execution_id from affected_executions)
    {%- endif %}

),

plugins as (

    select * from all_plugins
    {%- if is_incremental() %}
    where execution_id in (select affected_executions.execution_id from affected_executions)
    {%- endif %}

),

-- Plugins as `name_hash:command`, one per distinct pair. Sorted by hex keys (the name hash,
-- then the md5 of the command) so the list is the same whatever the database collation.
plugin_keys as (

    select distinct
        execution_id,
        plugin_name_hash,
        coalesce(plugin_command, '') as plugin_command,
        plugin_name_hash || ':' || coalesce(plugin_command, '') as plugin_key,
        {{ dbt.hash("coalesce(plugin_command, '')") }} as plugin_command_sort_key
    from plugins

),

plugin_lists as (

    select
        execution_id,
        count(*) as plugin_count,
        {{ dbt.listagg(
            'plugin_key',
            "','",
            'order by plugin_name_hash, plugin_command_sort_key'
        ) }} as plugin_list
    from plugin_keys
    group by execution_id

),

specs as (

    select
        executions.*,
        coalesce(plugin_lists.plugin_count, 0) as plugin_count,
        case
            when
                executions.command = 'run'
                and executions.run_blocks_hash is not null
                then 'run_blocks'
            else 'plugin_list'
        end as raw_pipeline_spec_kind,
        case
            when
                executions.command = 'run'
                and executions.run_blocks_hash is not null
                then executions.run_blocks_hash
            else coalesce(plugin_lists.plugin_list, '')
        end as raw_pipeline_spec
    from executions
    left join plugin_lists
        on executions.execution_id = plugin_lists.execution_id

),

canonical_texts as (

    select
        *,
        -- the canonical text of the pipeline identity: project | environment hash or '' | spec
        project_id
        || '|' || coalesce(environment_name_hash, '')
        || '|' || raw_pipeline_spec as raw_pipeline_canonical_text
    from specs

),

final as (

    select
        *,
        {{ telemetry_kpis.sha256_hex('raw_pipeline_canonical_text') }} as raw_pipeline_id
    from canonical_texts

)

select * from final
