{#-
    The Iglu schema versions Meltano has published (/work/shared/telemetry/iglu, com.meltano),
    by schema name. A version not listed here is still parsed (fields by name); the
    accepted_schema_versions test only warns so a new CLI release shows up in the build log.
    Add a version here once its fields have been checked.
-#}
{% macro published_schema_versions() -%}
    {{ return({
        'block_event': ['1-0-0'],
        'cli_event': ['1-0-0', '1-0-1'],
        'exit_event': ['1-0-0', '1-0-1'],
        'telemetry_state_change_event': ['1-0-0'],
        'cli_context': ['1-0-0', '1-1-0'],
        'environment_context': ['1-0-0', '1-1-0', '1-2-0', '1-3-0'],
        'exception_context': ['1-0-0'],
        'plugins_context': ['1-0-0'],
        'project_context': ['1-0-0', '1-1-0'],
    }) }}
{%- endmacro %}
