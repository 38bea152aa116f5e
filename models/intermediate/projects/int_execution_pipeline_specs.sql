{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='execution_id',
        on_schema_change='fail',
        post_hook=[
            "{{ telemetry_kpis.create_index(['execution_id'], 'execution_id') }}",
            "{{ telemetry_kpis.create_index(['_changed_at'], 'changed_at') }}",
        ],
    )
}}

{#-
    Every CLI execution (int_cli_executions, all dates) with what its pipeline identity is built
    from (metrics.md "Pipelines"): the sorted plugin list, the raw spec (run blocks or plugin
    list) and the SHA-256 of `project_id|environment_name_hash or ''|spec`. Nothing here depends
    on the as-of date, a var or a seed: int_executions_classified (a view) applies those, so a
    new as-of date, a changed var or a changed environment_names seed need no full refresh.

    Incremental (by batch marker, like its upstreams): an execution's row in int_cli_executions
    or int_execution_plugins changes only when one of its events changes (then its
    `_changed_at` moves to that batch) or when its parent process arrives (int_cli_executions
    recomputes the children of every process in its window; their `_changed_at` does not
    move). So a run recomputes the executions whose `_changed_at` is newer than the newest one
    here, plus the executions whose parent_context_uuid is the environment_context_uuid of one
    of those, and replaces them (delete+insert on execution_id). Executions recomputed without
    a change come out unchanged.
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
    where {{ telemetry_kpis.changed_in_window('_changed_at') }}

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

{{ telemetry_kpis.pipeline_identity('executions', 'plugins') }},

final as (

    select * from pipeline_identities

)

select * from final
