{#-
    int_execution_pipeline_specs (incremental) holds exactly the executions of
    int_cli_executions, each with the same values, and the plugin count of int_execution_plugins:
    no execution missed or left stale by its load-time window (a late event, a parent process
    arriving after its children, an execution whose events span several loads).
-#}

with

executions as (

    select * from {{ ref('int_cli_executions') }}

),

plugins as (

    select * from {{ ref('int_execution_plugins') }}

),

specs as (

    select * from {{ ref('int_execution_pipeline_specs') }}

),

plugin_pairs as (

    select distinct
        execution_id,
        plugin_name_hash,
        coalesce(plugin_command, '') as plugin_command
    from plugins

),

plugin_counts as (

    select
        execution_id,
        count(*) as plugin_count
    from plugin_pairs
    group by execution_id

),

expected as (

    select
        executions.*,
        coalesce(plugin_counts.plugin_count, 0) as plugin_count
    from executions
    left join plugin_counts on executions.execution_id = plugin_counts.execution_id

),

{%- set columns = [
    'execution_id', 'is_legacy_struct', 'project_id', 'project_uuid_source', 'client_id',
    'command', 'sub_command', 'started_at', 'finished_at', 'execution_date', 'exit_code',
    'is_success', 'environment_name_hash', 'meltano_version', 'python_version',
    'is_ci_environment', 'environment_context_uuid', 'parent_context_uuid',
    'parent_execution_id', 'ip_hash', 'run_blocks_hash', 'event_count', 'has_exit_event',
    'first_uploaded_at', 'last_uploaded_at', '_changed_at', 'plugin_count',
] %}

missing_or_stale as (

    select 'missing or stale' as problem, {{ columns | join(', ') }} from expected
    except
    select 'missing or stale' as problem, {{ columns | join(', ') }} from specs

),

extra_or_stale as (

    select 'extra or stale' as problem, {{ columns | join(', ') }} from specs
    except
    select 'extra or stale' as problem, {{ columns | join(', ') }} from expected

),

final as (

    select * from missing_or_stale
    union all
    select * from extra_or_stale

)

select * from final
