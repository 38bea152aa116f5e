{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_id',
        pre_hook=["{{ telemetry_kpis.forget_unusable_events() }}"],
        post_hook=["{{ telemetry_kpis.create_index(['event_id'], 'event_id') }}"],
    )
}}

{#-
    The only place the big `contexts` column is parsed: each kept copy's contexts array is
    parsed ONCE, into one row per context holding every field a typed context model needs
    (explode_json_objects: the schema, the scalar fields and the sub-documents of every
    com.meltano schema, read by name). int_cli_contexts, int_plugin_entries and
    int_telemetry_events (project and environment contexts) select their schema's rows and
    columns: no model stores or parses a context's JSON again, except the few
    sub-document kept as JSON text (the plugins array, exploded by int_plugin_entries). The
    other sub-documents (the command options and option keys, the env-var maps, the process
    hierarchy: a third of the contexts' text at 1M events) are not read: no model uses them.
    Schemas no KPI reads (exception_context) are kept as rows without fields.

    Fields are read by name whatever the schema version (a version that lacks a field gives
    NULL). A field is only taken from the schemas that declare it below (a `command` key in
    some other context is not a command). Contexts of other vendors or unknown schema names are
    kept (schema split) without fields.

    The contexts text is read from the raw row of the kept copy (base_snowplow__events_contexts,
    by load and line): no model stores a second copy of it.

    Incremental: only events whose kept copy changed since the last run (`_kept_at`) are
    (re)parsed; their rows are replaced (delete+insert on event_id).
-#}

-- depends_on: {{ ref('stg_snowplow__events_quarantine') }}

{#-
    What is read from each com.meltano schema: (column, path under the context's `data`).
    `fields` are scalars, as text exactly as sent (the typed context models cast them);
    `subdocs` are sub-documents kept as JSON text. A column read from several schemas (e.g.
    context_uuid) takes the value of the schema the context has.
-#}
{%- set fields = {
    'cli_context': [
        ('command', ['command']),
        ('parent_command_hint', ['parent_command_hint']),
        ('sub_command', ['sub_command']),
        ('option_blocks', ['options', 'blocks']),
        ('option_environment_hash', ['options', 'environment']),
    ],
    'environment_context': [
        ('context_uuid', ['context_uuid']),
        ('parent_context_uuid', ['parent_context_uuid']),
        ('meltano_version', ['meltano_version']),
        ('python_version', ['python_version']),
        ('python_implementation', ['python_implementation']),
        ('system_name', ['system_name']),
        ('system_release', ['system_release']),
        ('system_version', ['system_version']),
        ('machine', ['machine']),
        ('windows_edition', ['windows_edition']),
        ('freedesktop_id', ['freedesktop_id']),
        ('freedesktop_id_like', ['freedesktop_id_like']),
        ('freedesktop_version_id', ['freedesktop_version_id']),
        ('is_dev_build_text', ['is_dev_build']),
        ('is_ci_environment_text', ['is_ci_environment']),
        ('num_cpu_cores_text', ['num_cpu_cores']),
        ('num_cpu_cores_available_text', ['num_cpu_cores_available']),
    ],
    'project_context': [
        ('context_uuid', ['context_uuid']),
        ('project_uuid', ['project_uuid']),
        ('project_uuid_source', ['project_uuid_source']),
        ('client_uuid', ['client_uuid']),
        ('environment_name_hash', ['environment_name_hash']),
        ('send_anonymous_usage_stats_text', ['send_anonymous_usage_stats']),
        ('send_anonymous_usage_stats_source', ['send_anonymous_usage_stats_source']),
    ],
    'plugins_context': [
        ('context_uuid', ['context_uuid']),
    ],
} %}

{%- set subdocs = {
    'plugins_context': [
        ('plugins', ['plugins']),
    ],
} %}

{#-
    The paths of the one parse (the schema, then every field and sub-document under `data`)
    and the read of each output column: json_field / json_subdoc of the parsed element, only
    for the com.meltano schemas that declare it (a column several schemas send, e.g.
    context_uuid, is one read for all of them).
-#}
{%- set paths = [['schema']] %}
{%- set subdoc_paths = [] %}
{%- set reads = {} %}
{%- for kind, spec in [('field', fields), ('subdoc', subdocs)] %}
    {%- for schema, schema_columns in spec.items() %}
        {%- for column, path in schema_columns %}
            {%- set data_path = ['data'] + path %}
            {%- set kind_paths = paths if kind == 'field' else subdoc_paths %}
            {%- if data_path not in kind_paths %}{% do kind_paths.append(data_path) %}{% endif %}
            {%- do reads.setdefault(column, {'kind': kind, 'path': data_path, 'schemas': []}) %}
            {%- do reads[column]['schemas'].append(schema) %}
        {%- endfor %}
    {%- endfor %}
{%- endfor %}
{%- for read in reads.values() %}
    {%- if read.kind == 'field' %}
        {%- set value = telemetry_kpis.json_field('element_doc', read.path, paths) %}
    {%- else %}
        {%- set value = telemetry_kpis.json_subdoc('element_subdocs', read.path, subdoc_paths) %}
    {%- endif %}
    {%- do read.update({'sql': "case when schema_vendor = 'com.meltano' and schema_name in ('"
        ~ read.schemas | join("', '") ~ "') then " ~ value | trim ~ " end"}) %}
{%- endfor %}

with events as (

    select
        event_id,
        uploaded_at,
        _load_id,
        _source_line,
        _kept_at
    from {{ ref('stg_snowplow__events') }}
    where {{ telemetry_kpis.changed_since_last_run() }}

),

-- Not filtered: the join must build its hash table on the (small) kept events and stream
-- the (big) raw contexts past it; a filter here makes engines guess the raw side is smaller.
-- A null contexts explodes into no rows anyway.
raw_contexts as (

    select * from {{ ref('base_snowplow__events_contexts') }}

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
            events._load_id = raw_contexts._load_id
            and events._source_line = raw_contexts._source_line

),

exploded as (

    {{ telemetry_kpis.explode_json_objects(
        'kept_contexts', 'contexts', 'data', ['event_id', 'uploaded_at', '_kept_at'],
        paths, subdoc_paths
    ) }}

),

-- The schema text and its parts are read by every read below: evaluate_once() makes each
-- run once per context on every engine.
schemas as (

    select
        *,
        {{ telemetry_kpis.json_field('element_doc', ['schema'], paths) }} as context_schema
    from exploded
    {{ telemetry_kpis.evaluate_once() }}

),

split_schemas as (

    select
        *,
        nullif(
            replace({{ dbt.split_part('context_schema', "'/'", 1) }}, 'iglu:', ''), ''
        ) as schema_vendor,
        nullif({{ dbt.split_part('context_schema', "'/'", 2) }}, '') as schema_name,
        nullif({{ dbt.split_part('context_schema', "'/'", 3) }}, '') as schema_format,
        nullif({{ dbt.split_part('context_schema', "'/'", 4) }}, '') as schema_version
    from schemas
    {{ telemetry_kpis.evaluate_once() }}

),

final as (

    select
        event_id,
        element_index as context_index,
        context_schema,
        schema_vendor,
        schema_name,
        schema_format,
        schema_version,
        -- one `case` per column, written on one line by the loop above (hence the noqa)
        {%- for column, read in reads.items() %}
        {{ read.sql }} as {{ column }},  -- noqa: LT02
        {%- endfor %}
        uploaded_at,
        _kept_at
    from split_schemas

)

select * from final
