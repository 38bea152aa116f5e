{#-
    json_text(json_expr, path): the value at `path` of a JSON text expression, as text
    (strings unquoted, numbers and booleans as their JSON text, objects and arrays as JSON text,
    JSON null and missing keys as NULL). `path` is a list of object keys, e.g. ['data', 'schema'].
    The expression must be valid JSON (staging checks it with json_is_valid first).
-#}
{% macro json_text(json_expr, path) -%}
    {{ return(adapter.dispatch('json_text', 'telemetry_kpis')(json_expr, path)) }}
{%- endmacro %}

{% macro default__json_text(json_expr, path) -%}
    {{ telemetry_kpis.engine_not_implemented('json_text') }}
{%- endmacro %}

{% macro duckdb__json_text(json_expr, path) -%}
    json_extract_string({{ json_expr }}, '$.{{ path | join(".") }}')
{%- endmacro %}

{% macro postgres__json_text(json_expr, path) -%}
    {%- if path | length == 1 -%}
        (cast({{ json_expr }} as json) ->> '{{ path[0] }}')
    {%- else -%}
        (cast({{ json_expr }} as json) #>> '{ {{- path | join(",") -}} }')
    {%- endif -%}
{%- endmacro %}

{#- Spark: get_json_object gives strings unquoted and objects and arrays as JSON text. -#}
{% macro spark__json_text(json_expr, path) -%}
    get_json_object({{ json_expr }}, '$.{{ path | join(".") }}')
{%- endmacro %}

{% macro snowflake__json_text(json_expr, path) -%}
    cast(
        {{ telemetry_kpis.snowflake_parse_json(json_expr) }}
        {{- telemetry_kpis.snowflake_json_path(path) }} as varchar
    )
{%- endmacro %}

{#- Snowflake helpers of the JSON macros: the text parsed to a VARIANT (try_parse_json: NULL
    when not JSON; 'd': duplicate keys accepted, the last one wins, as PostgreSQL's jsonb does),
    and a path in Snowflake's notation with quoted keys (`:"data"."schema"`, case-sensitive). -#}
{% macro snowflake_parse_json(text_expr) -%}
    try_parse_json({{ text_expr }}, 'd')
{%- endmacro %}

{% macro snowflake_json_path(path) -%}
    :"{{ path | join('"."') }}"
{%- endmacro %}


{#-
    json_sub(json_expr, path): the JSON value at `path` as JSON text (objects and arrays kept
    as JSON, strings quoted), NULL when missing. Used to keep a small sub-document (a context's
    `data`) so later models do not re-read the whole envelope.
-#}
{% macro json_sub(json_expr, path) -%}
    {{ return(adapter.dispatch('json_sub', 'telemetry_kpis')(json_expr, path)) }}
{%- endmacro %}

{% macro default__json_sub(json_expr, path) -%}
    {{ telemetry_kpis.engine_not_implemented('json_sub') }}
{%- endmacro %}

{% macro duckdb__json_sub(json_expr, path) -%}
    cast(json_extract({{ json_expr }}, '$.{{ path | join(".") }}') as varchar)
{%- endmacro %}

{% macro postgres__json_sub(json_expr, path) -%}
    cast(cast({{ json_expr }} as json) #> '{ {{- path | join(",") -}} }' as text)
{%- endmacro %}

{#- Spark: the value parsed as a variant and written back as JSON (a string stays quoted, as
    on the other engines; a JSON null is the text 'null'). Object keys come out sorted: only
    models that read fields from the text use it. -#}
{% macro spark__json_sub(json_expr, path) -%}
    to_json(try_variant_get(try_parse_json({{ json_expr }}), '$.{{ path | join(".") }}'))
{%- endmacro %}

{#- Snowflake: to_json of the VARIANT (JSON null gives 'null' as on the other engines, missing
    gives NULL). Object keys come out in Snowflake's order, not the source's. -#}
{% macro snowflake__json_sub(json_expr, path) -%}
    to_json(
        {{ telemetry_kpis.snowflake_parse_json(json_expr) }}
        {{- telemetry_kpis.snowflake_json_path(path) }}
    )
{%- endmacro %}


{#-
    json_is_array(json_expr, path): true when the value at `path` is a JSON array, false when
    it is anything else (including null or missing).
-#}
{% macro json_is_array(json_expr, path) -%}
    {{ return(adapter.dispatch('json_is_array', 'telemetry_kpis')(json_expr, path)) }}
{%- endmacro %}

{% macro default__json_is_array(json_expr, path) -%}
    {{ telemetry_kpis.engine_not_implemented('json_is_array') }}
{%- endmacro %}

{% macro duckdb__json_is_array(json_expr, path) -%}
    coalesce(json_type({{ json_expr }}, '$.{{ path | join(".") }}') = 'ARRAY', false)
{%- endmacro %}

{% macro postgres__json_is_array(json_expr, path) -%}
    coalesce(
        json_typeof(cast({{ json_expr }} as json) #> '{ {{- path | join(",") -}} }') = 'array',
        false
    )
{%- endmacro %}

{% macro spark__json_is_array(json_expr, path) -%}
    coalesce(
        try_variant_get(
            try_parse_json({{ json_expr }}), '$.{{ path | join(".") }}', 'array<variant>'
        ) is not null,
        false
    )
{%- endmacro %}

{% macro snowflake__json_is_array(json_expr, path) -%}
    coalesce(
        is_array(
            {{ telemetry_kpis.snowflake_parse_json(json_expr) }}
            {{- telemetry_kpis.snowflake_json_path(path) }}
        ),
        false
    )
{%- endmacro %}


{#-
    json_is_object(json_expr, path): true when the value at `path` is a JSON object, false when
    it is anything else (including null or missing).
-#}
{% macro json_is_object(json_expr, path) -%}
    {{ return(adapter.dispatch('json_is_object', 'telemetry_kpis')(json_expr, path)) }}
{%- endmacro %}

{% macro default__json_is_object(json_expr, path) -%}
    {{ telemetry_kpis.engine_not_implemented('json_is_object') }}
{%- endmacro %}

{% macro duckdb__json_is_object(json_expr, path) -%}
    coalesce(json_type({{ json_expr }}, '$.{{ path | join(".") }}') = 'OBJECT', false)
{%- endmacro %}

{% macro postgres__json_is_object(json_expr, path) -%}
    coalesce(
        json_typeof(cast({{ json_expr }} as json) #> '{ {{- path | join(",") -}} }') = 'object',
        false
    )
{%- endmacro %}

{% macro spark__json_is_object(json_expr, path) -%}
    coalesce(
        try_variant_get(
            try_parse_json({{ json_expr }}), '$.{{ path | join(".") }}', 'map<string, variant>'
        ) is not null,
        false
    )
{%- endmacro %}

{% macro snowflake__json_is_object(json_expr, path) -%}
    coalesce(
        is_object(
            {{ telemetry_kpis.snowflake_parse_json(json_expr) }}
            {{- telemetry_kpis.snowflake_json_path(path) }}
        ),
        false
    )
{%- endmacro %}
