{#-
    pipeline_identity(executions, plugins): the pipeline identity of metrics.md "Pipelines",
    as CTE bodies to splice into a model's `with`: it defines `plugin_keys`, `plugin_lists`,
    `specs`, `canonical_texts` and `pipeline_identities`, the last one holding every column
    of the CTE `executions` plus plugin_count, raw_pipeline_spec_kind, raw_pipeline_spec,
    raw_pipeline_canonical_text and raw_pipeline_id. `plugins` is a CTE of
    int_execution_plugins rows (execution_id, plugin_name_hash, plugin_command).

    One rule, two callers: int_execution_pipeline_specs (every execution, incrementally) and
    int_executions_classified (the few executions whose events cross an explicit as-of date,
    recomputed from their plugins seen up to it).
-#}
{% macro pipeline_identity(executions, plugins) -%}

-- Plugins as `name_hash:command`, one per distinct pair. Sorted by hex keys (the name hash,
-- then the md5 of the command) so the list is the same whatever the database collation.
plugin_keys as (

    select distinct
        execution_id,
        plugin_name_hash,
        coalesce(plugin_command, '') as plugin_command,
        plugin_name_hash || ':' || coalesce(plugin_command, '') as plugin_key,
        {{ dbt.hash("coalesce(plugin_command, '')") }} as plugin_command_sort_key
    from {{ plugins }}

),

plugin_lists as (

    select
        execution_id,
        count(*) as plugin_count,
        {{ telemetry_kpis.ordered_string_agg(
            'plugin_key', "','", ['plugin_name_hash', 'plugin_command_sort_key']
        ) }} as plugin_list
    from plugin_keys
    group by execution_id

),

specs as (

    select
        {{ executions }}.*,
        coalesce(plugin_lists.plugin_count, 0) as plugin_count,
        case
            when
                {{ executions }}.command = 'run'
                and {{ executions }}.run_blocks_hash is not null
                then 'run_blocks'
            else 'plugin_list'
        end as raw_pipeline_spec_kind,
        case
            when
                {{ executions }}.command = 'run'
                and {{ executions }}.run_blocks_hash is not null
                then {{ executions }}.run_blocks_hash
            else coalesce(plugin_lists.plugin_list, '')
        end as raw_pipeline_spec
    from {{ executions }}
    left join plugin_lists
        on {{ executions }}.execution_id = plugin_lists.execution_id

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

pipeline_identities as (

    select
        *,
        {{ telemetry_kpis.sha256_hex('raw_pipeline_canonical_text') }} as raw_pipeline_id
    from canonical_texts

)

{%- endmacro %}
