{#-
    The contexts envelope, checked in staging from its PARSED value (metrics.md "Nothing lost"):
    `contexts` must be a JSON object whose `data` is an array, and an event is attributable
    only when one element is a com.meltano project_context whose data.project_uuid is a JSON
    string that is not empty after trimming white space. A text that merely mentions the
    project_context schema (inside another context's value) does not count.

    parse_contexts_envelope(text_expr): the envelope parsed once, NULL when the text is not
    JSON. DuckDB: a struct holding only each element's schema and data.project_uuid (as JSON,
    so its type can be checked); PostgreSQL: jsonb (end the CTE with evaluate_once()).

    contexts_envelope_is_valid(doc): true when the parsed envelope is an object whose `data`
    is an array (DuckDB's json_transform gives NULL for a list field that is not an array).

    contexts_envelope_has(doc, schema_prefix, with_project_uuid): true when an element's schema
    starts with `schema_prefix` (e.g. 'iglu:com.meltano/project_context/'), and, with
    `with_project_uuid`, its data.project_uuid is a non-empty JSON string.
-#}
{% macro parse_contexts_envelope(text_expr) -%}
    {{ return(adapter.dispatch('parse_contexts_envelope', 'telemetry_kpis')(text_expr)) }}
{%- endmacro %}

{% macro default__parse_contexts_envelope(text_expr) -%}
    {{ telemetry_kpis.engine_not_implemented('parse_contexts_envelope') }}
{%- endmacro %}

{% macro duckdb__parse_contexts_envelope(text_expr) -%}
    try(json_transform(
        {{ text_expr }}, '{"data": [{"schema": "VARCHAR", "data": {"project_uuid": "JSON"}}]}'
    ))
{%- endmacro %}

{% macro postgres__parse_contexts_envelope(text_expr) -%}
    telemetry_kpis.try_jsonb({{ text_expr }})
{%- endmacro %}

{#- Spark: a variant (NULL when the text is not JSON). -#}
{% macro spark__parse_contexts_envelope(text_expr) -%}
    try_parse_json({{ text_expr }})
{%- endmacro %}

{#- Snowflake: a VARIANT; try_parse_json gives NULL for text that is not JSON, and 'd' keeps
    duplicate keys (the last one wins) where Snowflake would otherwise refuse the text: DuckDB
    and PostgreSQL accept them too. -#}
{% macro snowflake__parse_contexts_envelope(text_expr) -%}
    {{ telemetry_kpis.snowflake_parse_json(text_expr) }}
{%- endmacro %}


{% macro contexts_envelope_is_valid(doc) -%}
    {{ return(adapter.dispatch('contexts_envelope_is_valid', 'telemetry_kpis')(doc)) }}
{%- endmacro %}

{% macro default__contexts_envelope_is_valid(doc) -%}
    {{ telemetry_kpis.engine_not_implemented('contexts_envelope_is_valid') }}
{%- endmacro %}

{% macro duckdb__contexts_envelope_is_valid(doc) -%}
    coalesce({{ doc }}['data'] is not null, false)
{%- endmacro %}

{% macro postgres__contexts_envelope_is_valid(doc) -%}
    coalesce(jsonb_typeof({{ doc }} -> 'data') = 'array', false)
{%- endmacro %}

{% macro spark__contexts_envelope_is_valid(doc) -%}
    coalesce(try_variant_get({{ doc }}, '$.data', 'array<variant>') is not null, false)
{%- endmacro %}

{% macro snowflake__contexts_envelope_is_valid(doc) -%}
    coalesce(is_array({{ doc }}:"data"), false)
{%- endmacro %}


{% macro contexts_envelope_has(doc, schema_prefix, with_project_uuid=false) -%}
    {{ return(adapter.dispatch('contexts_envelope_has', 'telemetry_kpis')(
        doc, schema_prefix, with_project_uuid
    )) }}
{%- endmacro %}

{% macro default__contexts_envelope_has(doc, schema_prefix, with_project_uuid=false) -%}
    {{ telemetry_kpis.engine_not_implemented('contexts_envelope_has') }}
{%- endmacro %}

{% macro duckdb__contexts_envelope_has(doc, schema_prefix, with_project_uuid=false) -%}
    coalesce(list_bool_or(list_transform({{ doc }}['data'], element ->
        coalesce(starts_with(element['schema'], '{{ schema_prefix }}'), false)
        {%- if with_project_uuid %}
        and coalesce(json_type(element['data']['project_uuid']) = 'VARCHAR', false)
        and {{ telemetry_kpis.trim_whitespace("element['data']['project_uuid'] ->> '$'") }}
        != ''
        {%- endif %}
    )), false)
{%- endmacro %}

{% macro postgres__contexts_envelope_has(doc, schema_prefix, with_project_uuid=false) -%}
    exists (
        select 1
        from jsonb_array_elements(
            case when jsonb_typeof({{ doc }} -> 'data') = 'array' then {{ doc }} -> 'data' end
        ) as envelope_elements (element)
        where
            coalesce(starts_with(element ->> 'schema', '{{ schema_prefix }}'), false)
            {%- if with_project_uuid %}
            and coalesce(jsonb_typeof(element -> 'data' -> 'project_uuid') = 'string', false)
            and {{ telemetry_kpis.trim_whitespace("element -> 'data' ->> 'project_uuid'") }}
            != ''
            {%- endif %}
    )
{%- endmacro %}

{#- Spark: a higher-order exists() over the data array (schema_of_variant names the JSON type
    of project_uuid: STRING for a JSON string). -#}
{% macro spark__contexts_envelope_has(doc, schema_prefix, with_project_uuid=false) -%}
    coalesce(exists(
        try_variant_get({{ doc }}, '$.data', 'array<variant>'),
        element -> coalesce(
            startswith(try_variant_get(element, '$.schema', 'string'), '{{ schema_prefix }}'),
            false
        )
        {%- if with_project_uuid %}
        and coalesce(
            schema_of_variant(try_variant_get(element, '$.data.project_uuid')) = 'STRING', false
        )
        and {{ telemetry_kpis.trim_whitespace(
            "try_variant_get(element, '$.data.project_uuid', 'string')"
        ) }} != ''
        {%- endif %}
    ), false)
{%- endmacro %}

{#- Snowflake: a FILTER over the `data` array (a lambda: Snowflake supports no correlated
    EXISTS in a select list); the array is only cast when it is one (a VARIANT object cast to
    ARRAY is an error). The project_uuid must be a JSON string (is_varchar), as elsewhere. -#}
{% macro snowflake__contexts_envelope_has(doc, schema_prefix, with_project_uuid=false) -%}
    coalesce(array_size(filter(
        case when is_array({{ doc }}:"data") then cast({{ doc }}:"data" as array) end,
        element -> coalesce(
            startswith(cast(element:"schema" as varchar), '{{ schema_prefix }}'), false
        )
        {%- if with_project_uuid %}
        and coalesce(is_varchar(element:"data"."project_uuid"), false)
        and {{ telemetry_kpis.trim_whitespace(
            'cast(element:"data"."project_uuid" as varchar)'
        ) }} != ''
        {%- endif %}
    )) > 0, false)
{%- endmacro %}


{#-
    trim_whitespace(text_expr): the text without leading and trailing white space (space, tab,
    line feed, vertical tab, form feed, carriage return), the same on every engine (a plain
    trim() strips spaces only).
-#}
{% macro whitespace_characters() -%}
    (chr(32) || chr(9) || chr(10) || chr(11) || chr(12) || chr(13))
{%- endmacro %}

{% macro trim_whitespace(text_expr) -%}
    {{ return(adapter.dispatch('trim_whitespace', 'telemetry_kpis')(text_expr)) }}
{%- endmacro %}

{% macro default__trim_whitespace(text_expr) -%}
    {{ telemetry_kpis.engine_not_implemented('trim_whitespace') }}
{%- endmacro %}

{% macro duckdb__trim_whitespace(text_expr) -%}
    trim({{ text_expr }}, {{ telemetry_kpis.whitespace_characters() }})
{%- endmacro %}

{% macro postgres__trim_whitespace(text_expr) -%}
    btrim({{ text_expr }}, {{ telemetry_kpis.whitespace_characters() }})
{%- endmacro %}

{% macro spark__trim_whitespace(text_expr) -%}
    trim(both {{ telemetry_kpis.whitespace_characters() }} from {{ text_expr }})
{%- endmacro %}

{#- Snowflake: trim(text, characters). The explicit varchar cast is a no-op for text; it also
    keeps fakesnow 0.12.1 (the emulator of the tests) from dropping the characters argument. -#}
{% macro snowflake__trim_whitespace(text_expr) -%}
    trim(cast({{ text_expr }} as varchar), {{ telemetry_kpis.whitespace_characters() }})
{%- endmacro %}
