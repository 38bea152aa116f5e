{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_id',
        post_hook=["{{ telemetry_kpis.create_index(['event_id'], 'event_id') }}"],
    )
}}

{#-
    The only place the big `contexts` column is parsed: each kept copy's contexts array
    unnested once, one row per context, and each context parsed ONCE for every field any typed
    context model reads (one multi-path extract; `json_parse` / `json_field`). The typed
    context models (int_cli_contexts, int_environment_contexts, int_project_contexts,
    int_exception_contexts, int_plugin_entries) select their schema's rows and columns: no model
    stores or parses a context's JSON again, except the few sub-documents kept as JSON text
    (`subdocs`: the plugins array, the command options, env-var maps, exception chains).

    Fields are read by name whatever the schema version (a version that lacks a field gives
    NULL). A key is read from every context that has it; each typed model reads only the
    columns of its own schema.

    The contexts text is read from the raw row of the kept copy (stg_snowplow__events_contexts,
    by file, line and uploaded_at): no model stores a second copy of it.

    Incremental: only events whose kept copy changed since the last run (`_kept_at`) are
    (re)parsed; their rows are replaced (delete+insert on event_id).
-#}

{#-
    Every column read from a context: (column, JSON path in the context). `fields` are scalars,
    as text exactly as sent (the typed context models cast them); `subdocs` are sub-documents
    kept as JSON text. Grouped by the schema that sends them.
-#}
{%- set fields = [
    ('context_schema', ['schema']),
    ('context_uuid', ['data', 'context_uuid']),
    ('parent_context_uuid', ['data', 'parent_context_uuid']),
    ('command', ['data', 'command']),
    ('parent_command_hint', ['data', 'parent_command_hint']),
    ('sub_command', ['data', 'sub_command']),
    ('option_blocks', ['data', 'options', 'blocks']),
    ('option_environment_hash', ['data', 'options', 'environment']),
    ('meltano_version', ['data', 'meltano_version']),
    ('python_version', ['data', 'python_version']),
    ('python_implementation', ['data', 'python_implementation']),
    ('system_name', ['data', 'system_name']),
    ('system_release', ['data', 'system_release']),
    ('system_version', ['data', 'system_version']),
    ('machine', ['data', 'machine']),
    ('windows_edition', ['data', 'windows_edition']),
    ('freedesktop_id', ['data', 'freedesktop_id']),
    ('freedesktop_id_like', ['data', 'freedesktop_id_like']),
    ('freedesktop_version_id', ['data', 'freedesktop_version_id']),
    ('is_dev_build_text', ['data', 'is_dev_build']),
    ('is_ci_environment_text', ['data', 'is_ci_environment']),
    ('num_cpu_cores_text', ['data', 'num_cpu_cores']),
    ('num_cpu_cores_available_text', ['data', 'num_cpu_cores_available']),
    ('project_uuid', ['data', 'project_uuid']),
    ('project_uuid_source', ['data', 'project_uuid_source']),
    ('client_uuid', ['data', 'client_uuid']),
    ('environment_name_hash', ['data', 'environment_name_hash']),
    ('send_anonymous_usage_stats_text', ['data', 'send_anonymous_usage_stats']),
    ('send_anonymous_usage_stats_source', ['data', 'send_anonymous_usage_stats_source']),
    ('exception_type', ['data', 'exception', 'type']),
    ('exception_str_hash', ['data', 'exception', 'str_hash']),
    ('exception_repr_hash', ['data', 'exception', 'repr_hash']),
] %}

{%- set subdocs = [
    ('option_keys', ['data', 'option_keys']),
    ('command_options', ['data', 'options']),
    ('notable_flag_env_vars', ['data', 'notable_flag_env_vars']),
    ('notable_hashed_env_vars', ['data', 'notable_hashed_env_vars']),
    ('process_hierarchy', ['data', 'process_hierarchy']),
    ('exception_traceback', ['data', 'exception', 'traceback']),
    ('exception_cause', ['data', 'exception', 'cause']),
    ('exception_context', ['data', 'exception', 'context']),
    ('plugins', ['data', 'plugins']),
] %}

{%- set field_paths = fields | map(attribute=1) | list %}
{%- set subdoc_paths = subdocs | map(attribute=1) | list %}

with events as (

    select
        event_id,
        uploaded_at,
        _source_file,
        _source_line,
        _kept_at
    from {{ ref('stg_snowplow__events') }}
    where {{ telemetry_kpis.changed_since_last_run() }}

),

-- Not filtered: the join must build its hash table on the (small) kept events and stream
-- the (big) raw contexts past it; a filter here makes engines guess the raw side is smaller.
-- A null contexts explodes into no rows anyway.
raw_contexts as (

    select * from {{ ref('stg_snowplow__events_contexts') }}

),

kept_contexts as (

    select
        events.event_id,
        events.uploaded_at,
        events._kept_at,
        raw_contexts.contexts
    from events
    inner join raw_contexts
        on
            events._source_file = raw_contexts._source_file
            and events._source_line = raw_contexts._source_line
            and events.uploaded_at = raw_contexts.uploaded_at

),

exploded as (

    {{ telemetry_kpis.explode_json_array(
        'kept_contexts', 'contexts', 'data', ['event_id', 'uploaded_at', '_kept_at']
    ) }}

),

parsed as (

    select
        event_id,
        uploaded_at,
        _kept_at,
        element_index as context_index,
        {{ telemetry_kpis.json_parse('element', field_paths) }} as context_doc,
        {{ telemetry_kpis.json_parse_subdocs('element', subdoc_paths) }} as context_subdocs
    from exploded
    {{ telemetry_kpis.evaluate_once() }}

),

extracted as (

    select
        event_id,
        context_index,
        {%- for column, path in fields %}
            {{ telemetry_kpis.json_field('context_doc', path, field_paths) }} as {{ column }},
        {%- endfor %}
        {%- for column, path in subdocs %}
            {{ telemetry_kpis.json_subdoc('context_subdocs', path, subdoc_paths) }}
                as {{ column }},
        {%- endfor %}
        uploaded_at,
        _kept_at
    from parsed

),

final as (

    select
        event_id,
        context_index,
        context_schema,
        nullif(
            replace({{ dbt.split_part('context_schema', "'/'", 1) }}, 'iglu:', ''), ''
        ) as schema_vendor,
        nullif({{ dbt.split_part('context_schema', "'/'", 2) }}, '') as schema_name,
        nullif({{ dbt.split_part('context_schema', "'/'", 3) }}, '') as schema_format,
        nullif({{ dbt.split_part('context_schema', "'/'", 4) }}, '') as schema_version,
        {%- for column, path in (fields + subdocs) if column != 'context_schema' %}
            {{ column }},
        {%- endfor %}
        uploaded_at,
        _kept_at
    from extracted

)

select * from final
