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
    environment_context, any version (1-0-0 .. 1-3-0 and unknown later ones), fields by name:
    one row per event (its first one). Fields a version lacks are null. The fields were parsed
    by int_event_contexts (one parse per context); booleans and counts are typed here.
-#}

-- depends_on: {{ ref('stg_snowplow__events_quarantine') }}

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

first_environment_contexts as (

    select contexts.*
    from contexts
    inner join first_contexts
        on
            contexts.event_id = first_contexts.event_id
            and contexts.context_index = first_contexts.context_index

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
    from first_environment_contexts

)

select * from final
