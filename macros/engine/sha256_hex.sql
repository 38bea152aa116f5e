{#-
    sha256_hex(text_expr): lower-case hex SHA-256 of the UTF-8 text (NULL for NULL). The same
    input gives the same hash on every engine, so ids built from it agree across warehouses.
-#}
{% macro sha256_hex(text_expr) -%}
    {{ return(adapter.dispatch('sha256_hex', 'telemetry_kpis')(text_expr)) }}
{%- endmacro %}

{% macro default__sha256_hex(text_expr) -%}
    {{ telemetry_kpis.engine_not_implemented('sha256_hex') }}
{%- endmacro %}

{% macro duckdb__sha256_hex(text_expr) -%}
    sha256({{ text_expr }})
{%- endmacro %}

{% macro postgres__sha256_hex(text_expr) -%}
    encode(sha256(convert_to({{ text_expr }}, 'UTF8')), 'hex')
{%- endmacro %}

{% macro spark__sha256_hex(text_expr) -%}
    sha2({{ text_expr }}, 256)
{%- endmacro %}

{#- Snowflake: sha2 of the text's UTF-8 bytes, lower-case hex. -#}
{% macro snowflake__sha256_hex(text_expr) -%}
    sha2({{ text_expr }}, 256)
{%- endmacro %}
