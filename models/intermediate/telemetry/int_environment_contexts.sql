{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_id',
        post_hook=["{{ telemetry_kpis.create_index(['event_id'], 'event_id') }}"],
    )
}}

{#-
    environment_context, any version (1-0-0 .. 1-3-0 and unknown later ones), fields by name:
    one row per event (its first one). Fields a version lacks are null.
-#}

{%- set fields = [
    ['context_uuid'],
    ['parent_context_uuid'],
    ['meltano_version'],
    ['python_version'],
    ['python_implementation'],
    ['system_name'],
    ['system_release'],
    ['system_version'],
    ['machine'],
    ['windows_edition'],
    ['freedesktop_id'],
    ['freedesktop_id_like'],
    ['freedesktop_version_id'],
    ['is_dev_build'],
    ['is_ci_environment'],
    ['num_cpu_cores'],
    ['num_cpu_cores_available'],
] %}

{%- set subdocs = [
    ['notable_flag_env_vars'],
    ['notable_hashed_env_vars'],
    ['process_hierarchy'],
] %}

with contexts as (

    select * from {{ ref('int_event_contexts') }}
    where
        {{ telemetry_kpis.changed_since_last_run() }}
        and schema_vendor = 'com.meltano' and schema_name = 'environment_context'

),

-- An event carries one environment_context; should it carry several, the first one counts.
first_contexts as (

    select
        event_id,
        min(context_index) as context_index
    from contexts
    group by event_id

),

parsed as (

    select
        contexts.event_id,
        contexts.context_index,
        contexts.schema_version,
        {{ telemetry_kpis.json_parse('contexts.context_data', fields) }} as context_doc,
        {{ telemetry_kpis.json_parse_subdocs('contexts.context_data', subdocs) }}
            as context_subdocs,
        contexts._kept_at
    from contexts
    inner join first_contexts
        on
            contexts.event_id = first_contexts.event_id
            and contexts.context_index = first_contexts.context_index

),

extracted as (

    select
        event_id,
        context_index,
        schema_version,
        {{ telemetry_kpis.json_field('context_doc', ['context_uuid'], fields) }} as context_uuid,
        {{ telemetry_kpis.json_field('context_doc', ['parent_context_uuid'], fields) }}
            as parent_context_uuid,
        {{ telemetry_kpis.json_field('context_doc', ['meltano_version'], fields) }}
            as meltano_version,
        {{ telemetry_kpis.json_field('context_doc', ['python_version'], fields) }}
            as python_version,
        {{ telemetry_kpis.json_field('context_doc', ['python_implementation'], fields) }}
            as python_implementation,
        {{ telemetry_kpis.json_field('context_doc', ['system_name'], fields) }} as system_name,
        {{ telemetry_kpis.json_field('context_doc', ['system_release'], fields) }}
            as system_release,
        {{ telemetry_kpis.json_field('context_doc', ['system_version'], fields) }}
            as system_version,
        {{ telemetry_kpis.json_field('context_doc', ['machine'], fields) }} as machine,
        {{ telemetry_kpis.json_field('context_doc', ['windows_edition'], fields) }}
            as windows_edition,
        {{ telemetry_kpis.json_field('context_doc', ['freedesktop_id'], fields) }}
            as freedesktop_id,
        {{ telemetry_kpis.json_field('context_doc', ['freedesktop_id_like'], fields) }}
            as freedesktop_id_like,
        {{ telemetry_kpis.json_field('context_doc', ['freedesktop_version_id'], fields) }}
            as freedesktop_version_id,
        {{ telemetry_kpis.json_subdoc('context_subdocs', ['notable_flag_env_vars'], subdocs) }}
            as notable_flag_env_vars,
        {{ telemetry_kpis.json_subdoc('context_subdocs', ['notable_hashed_env_vars'], subdocs) }}
            as notable_hashed_env_vars,
        {{ telemetry_kpis.json_subdoc('context_subdocs', ['process_hierarchy'], subdocs) }}
            as process_hierarchy,
        {{ telemetry_kpis.json_field('context_doc', ['is_dev_build'], fields) }}
            as is_dev_build_text,
        {{ telemetry_kpis.json_field('context_doc', ['is_ci_environment'], fields) }}
            as is_ci_environment_text,
        {{ telemetry_kpis.json_field('context_doc', ['num_cpu_cores'], fields) }}
            as num_cpu_cores_text,
        {{ telemetry_kpis.json_field('context_doc', ['num_cpu_cores_available'], fields) }}
            as num_cpu_cores_available_text,
        _kept_at
    from parsed

),

final as (

    select
        event_id,
        context_index,
        schema_version,
        context_uuid,
        parent_context_uuid,
        meltano_version,
        python_version,
        python_implementation,
        system_name,
        system_release,
        system_version,
        machine,
        windows_edition,
        freedesktop_id,
        freedesktop_id_like,
        freedesktop_version_id,
        notable_flag_env_vars,
        notable_hashed_env_vars,
        process_hierarchy,
        case is_dev_build_text
            when 'true' then true
            when 'false' then false
        end as is_dev_build,
        case is_ci_environment_text
            when 'true' then true
            when 'false' then false
        end as is_ci_environment,
        case
            when {{ telemetry_kpis.regex_matches('num_cpu_cores_text', "'^[0-9]{1,9}$'") }}
                then cast(num_cpu_cores_text as integer)
        end as num_cpu_cores,
        case
            when
                {{ telemetry_kpis.regex_matches(
                    'num_cpu_cores_available_text', "'^[0-9]{1,9}$'"
                ) }}
                then cast(num_cpu_cores_available_text as integer)
        end as num_cpu_cores_available,
        _kept_at
    from extracted

)

select * from final
