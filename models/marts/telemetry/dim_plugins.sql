{#-
    One row per plugin (name hash and Meltano plugin type) seen in the telemetry, with the name
    resolved through the seed of well-known plugin names, and the plugin category rule of
    metrics.md "Plugins":
      type in (extractors, loaders, mappers)                  -> 'singer'
      transformer or utility whose resolved name (or resolved
      parent name) contains 'dbt'                             -> 'dbt'
      otherwise the resolved parent name when known           -> that name
      else                                                    -> 'other'
-#}
with

plugins as (

    select * from {{ ref('int_execution_plugins') }}

),

executions as (

    select * from {{ ref('fct_cli_executions') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

plugin_names as (

    select * from {{ ref('plugin_names') }}

),

known_plugins as (

    select
        plugin_name,
        plugin_type as known_plugin_type,
        {{ telemetry_kpis.sha256_hex('plugin_name') }} as plugin_name_hash
    from plugin_names

),

seen_plugins as (

    select
        plugins.plugin_name_hash,
        plugins.plugin_category as plugin_type,
        min(plugins.plugin_parent_name_hash) as plugin_parent_name_hash,
        count(distinct plugins.execution_id) as execution_count,
        count(distinct plugins.project_id) as project_count
    from plugins
    inner join executions
        on plugins.execution_id = executions.execution_id
    -- a plugin first named after the as-of day does not count (an execution crossing it)
    inner join as_of
        on plugins.first_seen_at < as_of.as_of_at
    group by plugins.plugin_name_hash, plugins.plugin_category

),

resolved as (

    select
        seen_plugins.plugin_name_hash,
        seen_plugins.plugin_type,
        seen_plugins.plugin_parent_name_hash,
        resolved_names.plugin_name,
        resolved_parents.plugin_name as plugin_parent_name,
        seen_plugins.execution_count,
        seen_plugins.project_count
    from seen_plugins
    left join known_plugins as resolved_names
        on lower(seen_plugins.plugin_name_hash) = resolved_names.plugin_name_hash
    left join known_plugins as resolved_parents
        on lower(seen_plugins.plugin_parent_name_hash) = resolved_parents.plugin_name_hash

),

final as (

    select
        plugin_name_hash,
        plugin_type,
        plugin_name,
        plugin_parent_name_hash,
        plugin_parent_name,
        execution_count,
        project_count,
        case
            when plugin_type in ('extractors', 'loaders', 'mappers') then 'singer'
            when
                plugin_type in ('transformers', 'utilities')
                and (plugin_name like '%dbt%' or plugin_parent_name like '%dbt%')
                then 'dbt'
            when plugin_parent_name is not null then plugin_parent_name
            else 'other'
        end as plugin_category
    from resolved

)

select * from final
