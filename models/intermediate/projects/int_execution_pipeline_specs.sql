{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='execution_id',
        on_schema_change='fail',
        pre_hook=["{{ telemetry_kpis.forget_executions_of_removed_events() }}"],
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

    Incremental (by batch marker, like its upstreams): int_cli_executions stamps every row it
    writes with `_changed_at` (its run), and it writes every execution whose events or plugins
    changed and every child whose parent process arrived. So a run recomputes the executions
    whose `_changed_at` is newer than the newest one here and replaces them (delete+insert on
    execution_id); a pre-hook first deletes the executions that lost an event, so one that
    lost its last event is gone here too.
-#}

-- depends_on: {{ ref('int_telemetry_events') }}

with all_executions as (

    select * from {{ ref('int_cli_executions') }}

),

all_plugins as (

    select * from {{ ref('int_execution_plugins') }}

),

{% if is_incremental() %}

affected_executions as (

    select execution_id from all_executions
    where {{ telemetry_kpis.changed_in_window('_changed_at') }}

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
