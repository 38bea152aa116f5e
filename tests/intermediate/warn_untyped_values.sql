{{ config(severity='warn') }}

{#-
    Values inside usable events that could not be typed (metrics.md "Nothing lost"): each one
    became NULL in its typed column, the event was kept, and nothing failed. One row per
    (model, column) with how many values were affected; a warning, never an error, so that a
    new CLI release or a broken sender shows up without stopping a build.
-#}

with contexts as (

    select * from {{ ref('int_event_contexts') }}
    where schema_vendor = 'com.meltano'

),

exit_events as (

    select * from {{ ref('int_exit_events') }}

),

plugin_entries as (

    select * from {{ ref('int_plugin_entries') }}

),

untyped as (

    select
        'int_telemetry_events' as model_name,
        'project_uuid_source' as column_name,
        count(*) as untyped_values
    from contexts
    where
        schema_name = 'project_context'
        and project_uuid_source not in ('explicit', 'derived', 'random')

    union all

    select
        'int_telemetry_events' as model_name,
        'is_ci_environment' as column_name,
        count(*) as untyped_values
    from contexts
    where
        schema_name = 'environment_context'
        and is_ci_environment_text not in ('true', 'false')

    union all

    select
        'int_project_attributes' as model_name,
        'first_meltano_major_version' as column_name,
        count(*) as untyped_values
    from contexts
    where
        schema_name = 'environment_context'
        and not {{ telemetry_kpis.regex_matches('meltano_version', "'^[0-9]{1,9}([.]|$)'") }}

    union all

    select
        'int_exit_events' as model_name,
        'exit_code' as column_name,
        count(*) as untyped_values
    from exit_events
    where exit_code_text is not null and exit_code is null

    union all

    select
        'int_exit_events' as model_name,
        'exited_at' as column_name,
        count(*) as untyped_values
    from exit_events
    where exit_timestamp is not null and exited_at is null

    union all

    select
        'int_plugin_entries' as model_name,
        'plugin_name_hash' as column_name,
        count(*) as untyped_values
    from plugin_entries
    where plugin_name_hash is null

),

final as (

    select * from untyped
    where untyped_values > 0

)

select * from final
