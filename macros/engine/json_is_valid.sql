{#-
    json_is_valid(text_expr): true when the text parses as JSON, false otherwise (NULL for
    NULL). Staging calls it before any JSON function touches a column, so one bad row is
    quarantined instead of failing the build.

    PostgreSQL 15 has no pg_input_is_valid (16+), so it calls telemetry_kpis.is_valid_json(text),
    a small plpgsql function created idempotently by create_engine_functions() (a pre-hook of
    the staging base model). Text holding the escape \u0000 counts as invalid on every engine:
    PostgreSQL's jsonb (used to read fields) cannot store it.
-#}
{% macro json_is_valid(text_expr) -%}
    {{ return(adapter.dispatch('json_is_valid', 'telemetry_kpis')(text_expr)) }}
{%- endmacro %}

{% macro default__json_is_valid(text_expr) -%}
    {{ telemetry_kpis.engine_not_implemented('json_is_valid') }}
{%- endmacro %}

{% macro duckdb__json_is_valid(text_expr) -%}
    (json_valid({{ text_expr }}) and not {{ telemetry_kpis.contains_nul_escape(text_expr) }})
{%- endmacro %}

{% macro postgres__json_is_valid(text_expr) -%}
    (
        telemetry_kpis.is_valid_json({{ text_expr }})
        and not {{ telemetry_kpis.contains_nul_escape(text_expr) }}
    )
{%- endmacro %}

{#- Spark: try_parse_json is NULL for text that is not JSON (the JSON text `null` gives a
    variant null, which is not NULL). -#}
{% macro spark__json_is_valid(text_expr) -%}
    (
        try_parse_json({{ text_expr }}) is not null
        and not {{ telemetry_kpis.contains_nul_escape(text_expr) }}
    )
{%- endmacro %}

{#- Snowflake: try_parse_json (with 'd', duplicate keys accepted as on DuckDB and PostgreSQL)
    gives NULL for text that is not JSON; the literal 'null' parses to a JSON null, which is not
    SQL NULL. -#}
{% macro snowflake__json_is_valid(text_expr) -%}
    (
        {{ telemetry_kpis.snowflake_parse_json(text_expr) }} is not null
        and not {{ telemetry_kpis.contains_nul_escape(text_expr) }}
    )
{%- endmacro %}


{#-
    contains_nul_escape(text_expr): true when the text holds the six characters `\u0000` (the
    JSON escape of the NUL character). Spark and Snowflake read backslash escapes in string
    literals, so their literal doubles the backslash.
-#}
{% macro contains_nul_escape(text_expr) -%}
    {{ return(adapter.dispatch('contains_nul_escape', 'telemetry_kpis')(text_expr)) }}
{%- endmacro %}

{% macro default__contains_nul_escape(text_expr) -%}
    {{ telemetry_kpis.engine_not_implemented('contains_nul_escape') }}
{%- endmacro %}

{% macro duckdb__contains_nul_escape(text_expr) -%}
    (position('\u0000' in {{ text_expr }}) > 0)
{%- endmacro %}

{% macro postgres__contains_nul_escape(text_expr) -%}
    (position('\u0000' in {{ text_expr }}) > 0)
{%- endmacro %}

{% macro spark__contains_nul_escape(text_expr) -%}
    (position('\\u0000' in {{ text_expr }}) > 0)
{%- endmacro %}

{#- Snowflake: a backslash in a string literal starts an escape there too. -#}
{% macro snowflake__contains_nul_escape(text_expr) -%}
    (position('\\u0000' in {{ text_expr }}) > 0)
{%- endmacro %}


{#-
    create_engine_functions(): SQL that creates the helper functions an engine needs, or a
    no-op. Idempotent (create ... if not exists / create or replace). Used as a pre-hook; can
    also be run by hand: dbt run-operation create_engine_functions_now.
-#}
{% macro create_engine_functions() -%}
    {{ return(adapter.dispatch('create_engine_functions', 'telemetry_kpis')()) }}
{%- endmacro %}

{% macro default__create_engine_functions() -%}
    {{ telemetry_kpis.engine_not_implemented('create_engine_functions') }}
{%- endmacro %}

{% macro duckdb__create_engine_functions() -%}
    select 1 as no_engine_functions_needed
{%- endmacro %}

{#-
    The PostgreSQL functions catch cast errors in an exception block, which opens a
    subtransaction. PostgreSQL forbids that anywhere in a parallel query, in the leader too
    ("cannot start subtransactions during a parallel operation", seen at 0.9M events in
    int_exit_events when they were `parallel restricted`): they are `parallel unsafe`, so a
    query that calls them never runs in parallel.
-#}
{% macro postgres__create_engine_functions() -%}
    create schema if not exists telemetry_kpis;
    create or replace function telemetry_kpis.is_valid_json(value text)
    returns boolean
    language plpgsql
    immutable
    parallel unsafe
    as $body$
    begin
        if value is null then
            return null;
        end if;
        perform value::json;
        return true;
    exception when others then
        return false;
    end;
    $body$;
    create or replace function telemetry_kpis.try_jsonb(value text)
    returns jsonb
    language plpgsql
    immutable
    parallel unsafe
    as $body$
    begin
        return value::jsonb;
    exception when others then
        return null;
    end;
    $body$;
    create or replace function telemetry_kpis.try_timestamp(value text)
    returns timestamp
    language plpgsql
    immutable
    parallel unsafe
    as $body$
    begin
        return value::timestamp;
    exception when others then
        return null;
    end;
    $body$;
    create or replace function telemetry_kpis.try_timestamptz_utc(value text)
    returns timestamp
    language plpgsql
    immutable
    parallel unsafe
    as $body$
    begin
        return value::timestamptz at time zone 'UTC';
    exception when others then
        return null;
    end;
    $body$
{%- endmacro %}

{% macro spark__create_engine_functions() -%}
    select 1 as no_engine_functions_needed
{%- endmacro %}

{% macro snowflake__create_engine_functions() -%}
    select 1 as no_engine_functions_needed
{%- endmacro %}

{% macro create_engine_functions_now() %}
    {% do run_query(telemetry_kpis.create_engine_functions()) %}
    {{ log("engine functions created (or already there) on " ~ target.type, info=true) }}
{% endmacro %}
