{#-
    Every CLI execution up to the as-of date (int_cli_executions already leaves
    out processes that only sent a telemetry_state_change_event) with its execution-level rules
    (metrics.md "Activity" and "Pipelines"): execution event, pipeline run, pipeline identity,
    resolved environment name. fct_cli_executions adds the project-dependent qualifying flag.
-#}
with

executions as (

    select * from {{ ref('int_cli_executions') }}

),

plugins as (

    select * from {{ ref('int_execution_plugins') }}

),

environment_names as (

    select * from {{ ref('environment_names') }}

),

as_of as (

    select * from {{ ref('dim_as_of_date') }}

),

known_environments as (

    select
        environment_name,
        is_production,
        {{ telemetry_kpis.sha256_hex('environment_name') }} as environment_name_hash
    from environment_names

),

executions_until_as_of as (

    select executions.*
    from executions
    inner join as_of
        on executions.execution_date <= as_of.as_of_date

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

classified as (

    select
        executions_until_as_of.*,
        known_environments.environment_name,
        coalesce(plugin_lists.plugin_count, 0) as plugin_count,
        coalesce(known_environments.is_production, false) as is_production_environment,
        coalesce(executions_until_as_of.command, '') in (
            {%- for command in var('execution_commands') %}
                '{{ command }}'{% if not loop.last %},{% endif %}
            {%- endfor %}
        ) as is_execution_event,
        coalesce(executions_until_as_of.command, '') in (
            {%- for command in var('pipeline_commands') %}
                '{{ command }}'{% if not loop.last %},{% endif %}
            {%- endfor %}
        )
        and not (
            executions_until_as_of.command = 'run'
            and coalesce(executions_until_as_of.run_blocks_hash, '')
            = '{{ var("empty_blocks_hash") }}'
        ) as is_pipeline_run,
        case
            when
                executions_until_as_of.command = 'run'
                and executions_until_as_of.run_blocks_hash is not null
                then 'run_blocks'
            else 'plugin_list'
        end as raw_pipeline_spec_kind,
        case
            when
                executions_until_as_of.command = 'run'
                and executions_until_as_of.run_blocks_hash is not null
                then executions_until_as_of.run_blocks_hash
            else coalesce(plugin_lists.plugin_list, '')
        end as raw_pipeline_spec
    from executions_until_as_of
    left join plugin_lists
        on executions_until_as_of.execution_id = plugin_lists.execution_id
    left join known_environments
        on
            lower(executions_until_as_of.environment_name_hash)
            = known_environments.environment_name_hash

),

pipeline_specs as (

    select
        *,
        case when is_pipeline_run then raw_pipeline_spec_kind end as pipeline_spec_kind,
        case when is_pipeline_run then raw_pipeline_spec end as pipeline_spec,
        -- the canonical text of the pipeline identity: project | environment hash or '' | spec
        case
            when is_pipeline_run
                then
                    project_id
                    || '|' || coalesce(environment_name_hash, '')
                    || '|' || raw_pipeline_spec
        end as pipeline_canonical_text
    from classified

),

final as (

    select
        *,
        {{ telemetry_kpis.sha256_hex('pipeline_canonical_text') }} as pipeline_id
    from pipeline_specs

)

select * from final
