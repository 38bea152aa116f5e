{{ config(materialized='table') }}

{#-
    environment_context, any version (1-0-0 .. 1-3-0 and unknown later ones), fields by name:
    one row per event (its first one). Fields a version lacks are null.
-#}

{%- set text_fields = [
    'context_uuid', 'parent_context_uuid', 'meltano_version', 'python_version',
    'python_implementation', 'system_name', 'system_release', 'system_version', 'machine',
    'windows_edition', 'freedesktop_id', 'freedesktop_id_like', 'freedesktop_version_id',
    'notable_flag_env_vars', 'notable_hashed_env_vars', 'process_hierarchy',
] %}
{%- set boolean_fields = ['is_dev_build', 'is_ci_environment'] %}
{%- set integer_fields = ['num_cpu_cores', 'num_cpu_cores_available'] %}

with contexts as (

    select * from {{ ref('int_event_contexts') }}
    where schema_vendor = 'com.meltano' and schema_name = 'environment_context'

),

ranked as (

    select
        *,
        row_number() over (partition by event_id order by context_index) as context_rank
    from contexts

),

extracted as (

    select
        event_id,
        context_index,
        schema_version,
        {%- for field in text_fields + boolean_fields + integer_fields %}
        {{ telemetry_kpis.json_text('context_data', [field]) }} as {{ field }}_text,
        {%- endfor %}
        context_rank
    from ranked
    where context_rank = 1

),

final as (

    select
        event_id,
        context_index,
        schema_version,
        {%- for field in text_fields %}
        {{ field }}_text as {{ field }},
        {%- endfor %}
        {%- for field in boolean_fields %}
        case {{ field }}_text
            when 'true' then true
            when 'false' then false
        end as {{ field }},
        {%- endfor %}
        {%- for field in integer_fields %}
        case
            when {{ telemetry_kpis.regex_matches(field ~ '_text', "'^[0-9]{1,9}$'") }}
                then cast({{ field }}_text as integer)
        end as {{ field }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from extracted

)

select * from final
