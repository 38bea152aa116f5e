{#-
    json_parse(text_expr, paths) / json_field(doc, path, paths):
    read many scalar fields of one small JSON document while parsing it ONCE.

    `paths` is the list of every path (a list of object keys) the model reads from the
    document, declared once in the model; json_parse gives the engine's parsed form:
    - DuckDB: `json_transform(text, '{"a": "VARCHAR", "b": {"c": "VARCHAR"}}')`, one parse
      into a struct holding only those fields (a struct field is read without copying; a
      multi-path json_extract_string builds a list of every field's text, which cost more than
      the parse);
    - PostgreSQL: jsonb, a binary form whose field access does not re-read the text (end the
      CTE with evaluate_once(), or PostgreSQL copies the cast into every field read).
    json_field(doc, path, paths) then gives the value at `path` as text, exactly like
    json_text (strings unquoted, other values as JSON text, null and missing keys as NULL; a
    path through a non-object value gives NULL). No path may be a prefix of another one.
-#}
{% macro json_parse(text_expr, paths) -%}
    {{ return(adapter.dispatch('json_parse', 'telemetry_kpis')(text_expr, paths)) }}
{%- endmacro %}

{% macro default__json_parse(text_expr, paths) -%}
    {{ telemetry_kpis.engine_not_implemented('json_parse') }}
{%- endmacro %}

{% macro duckdb__json_parse(text_expr, paths) -%}
    json_transform({{ text_expr }}, '{{ telemetry_kpis.json_struct_spec(paths, 'VARCHAR') }}')
{%- endmacro %}

{% macro postgres__json_parse(text_expr, paths) -%}
    cast({{ text_expr }} as jsonb)
{%- endmacro %}

{#- Spark: a variant, parsed once; its fields are read without parsing the text again. -#}
{% macro spark__json_parse(text_expr, paths) -%}
    try_parse_json({{ text_expr }})
{%- endmacro %}

{#- Snowflake: a VARIANT (parsed once; field access does not re-read the text). -#}
{% macro snowflake__json_parse(text_expr, paths) -%}
    {{ telemetry_kpis.snowflake_parse_json(text_expr) }}
{%- endmacro %}


{% macro json_field(doc, path, paths) -%}
    {%- do telemetry_kpis.check_path_declared(path, paths, 'json_field') -%}
    {{ return(adapter.dispatch('json_field', 'telemetry_kpis')(doc, path, paths)) }}
{%- endmacro %}

{% macro default__json_field(doc, path, paths) -%}
    {{ telemetry_kpis.engine_not_implemented('json_field') }}
{%- endmacro %}

{% macro duckdb__json_field(doc, path, paths) -%}
    {{ doc }}{% for key in path %}['{{ key }}']{% endfor %}
{%- endmacro %}

{% macro postgres__json_field(doc, path, paths) -%}
    {%- if path | length == 1 -%}
        ({{ doc }} ->> '{{ path[0] }}')
    {%- else -%}
        ({{ doc }} #>> '{ {{- path | join(",") -}} }')
    {%- endif -%}
{%- endmacro %}

{#- Spark: a string field unquoted, other scalars as their JSON text, objects and arrays as
    JSON text; JSON null, a missing key and a path through a non-object give NULL. -#}
{% macro spark__json_field(doc, path, paths) -%}
    try_variant_get({{ doc }}, '$.{{ path | join(".") }}', 'string')
{%- endmacro %}

{#- Snowflake: a VARIANT cast to varchar gives strings unquoted, numbers and booleans as text
    ('true'/'false'), objects and arrays as JSON text, and JSON null as SQL NULL. A path
    through a value that is not an object gives NULL. -#}
{% macro snowflake__json_field(doc, path, paths) -%}
    cast({{ doc }}{{ telemetry_kpis.snowflake_json_path(path) }} as varchar)
{%- endmacro %}


{#-
    json_parse_subdocs(text_expr, paths) / json_subdoc(doc, path, paths): the same for JSON
    sub-documents kept as JSON text (objects and arrays as JSON, strings quoted; NULL when
    missing or JSON null), parsing the text once for all of them.
    - DuckDB: `json_transform` into a struct of JSON values (minified JSON text);
    - PostgreSQL: json (not jsonb: json keeps the original text of the sub-document).
-#}
{% macro json_parse_subdocs(text_expr, paths) -%}
    {{ return(adapter.dispatch('json_parse_subdocs', 'telemetry_kpis')(text_expr, paths)) }}
{%- endmacro %}

{% macro default__json_parse_subdocs(text_expr, paths) -%}
    {{ telemetry_kpis.engine_not_implemented('json_parse_subdocs') }}
{%- endmacro %}

{% macro duckdb__json_parse_subdocs(text_expr, paths) -%}
    json_transform({{ text_expr }}, '{{ telemetry_kpis.json_struct_spec(paths, 'JSON') }}')
{%- endmacro %}

{% macro postgres__json_parse_subdocs(text_expr, paths) -%}
    cast({{ text_expr }} as json)
{%- endmacro %}

{% macro spark__json_parse_subdocs(text_expr, paths) -%}
    try_parse_json({{ text_expr }})
{%- endmacro %}

{% macro snowflake__json_parse_subdocs(text_expr, paths) -%}
    {{ telemetry_kpis.snowflake_parse_json(text_expr) }}
{%- endmacro %}


{% macro json_subdoc(doc, path, paths) -%}
    {%- do telemetry_kpis.check_path_declared(path, paths, 'json_subdoc') -%}
    {{ return(adapter.dispatch('json_subdoc', 'telemetry_kpis')(doc, path, paths)) }}
{%- endmacro %}

{% macro default__json_subdoc(doc, path, paths) -%}
    {{ telemetry_kpis.engine_not_implemented('json_subdoc') }}
{%- endmacro %}

{% macro duckdb__json_subdoc(doc, path, paths) -%}
    cast({{ doc }}{% for key in path %}['{{ key }}']{% endfor %} as varchar)
{%- endmacro %}

{% macro postgres__json_subdoc(doc, path, paths) -%}
    nullif(cast({{ doc }} #> '{ {{- path | join(",") -}} }' as text), 'null')
{%- endmacro %}

{#- Spark: minified JSON with object keys sorted (the variant's order); only parsed again. -#}
{% macro spark__json_subdoc(doc, path, paths) -%}
    nullif(to_json(try_variant_get({{ doc }}, '$.{{ path | join(".") }}')), 'null')
{%- endmacro %}

{#- Snowflake: to_json of the VARIANT (compact JSON; a JSON null gives 'null', hence the nullif;
    a missing key gives NULL). Snowflake does not keep an object's key order: a sub-document's
    text may list its keys in another order than the source (only its parsed value is read). -#}
{% macro snowflake__json_subdoc(doc, path, paths) -%}
    nullif(to_json({{ doc }}{{ telemetry_kpis.snowflake_json_path(path) }}), 'null')
{%- endmacro %}


{#- Shared by the macros above: the DuckDB json_transform structure of `paths`, every leaf of
    type `leaf_type` (`{"a": "VARCHAR", "b": {"c": "VARCHAR"}}`; a compile error when a path is
    a prefix of another), and the check that `path` is one of `paths` (a compile error naming
    the macro when it is not). -#}
{% macro json_struct_spec(paths, leaf_type) -%}
    {%- set typed_paths = [] -%}
    {%- for path in paths %}{% do typed_paths.append((path, leaf_type)) %}{% endfor -%}
    {{ return(telemetry_kpis.json_struct_spec_typed(typed_paths)) }}
{%- endmacro %}

{#- json_struct_spec_typed(typed_paths): the same from (path, leaf type) pairs, e.g. VARCHAR
    leaves for scalar fields and JSON leaves for sub-documents in one structure. -#}
{% macro json_struct_spec_typed(typed_paths) -%}
    {%- set spec = {} -%}
    {%- set paths = typed_paths | map(attribute=0) | list -%}
    {%- for path, leaf_type in typed_paths -%}
        {%- set node = namespace(value=spec) -%}
        {%- for key in path[:-1] -%}
            {%- if node.value.get(key) is string -%}
                {{ exceptions.raise_compiler_error(
                    "json_parse: path " ~ path ~ " goes through another path's leaf: " ~ paths
                ) }}
            {%- endif -%}
            {%- do node.value.setdefault(key, {}) -%}
            {%- set node.value = node.value[key] -%}
        {%- endfor -%}
        {%- if path[-1] in node.value -%}
            {{ exceptions.raise_compiler_error(
                "json_parse: path " ~ path ~ " is given twice or has sub-paths: " ~ paths
            ) }}
        {%- endif -%}
        {%- do node.value.update({path[-1]: leaf_type}) -%}
    {%- endfor -%}
    {{ return(tojson(spec)) }}
{%- endmacro %}

{% macro check_path_declared(path, paths, caller_name) -%}
    {%- if path not in paths -%}
        {{ exceptions.raise_compiler_error(
            caller_name ~ ": path " ~ path ~ " is not in the paths given to the parse: " ~ paths
        ) }}
    {%- endif -%}
{%- endmacro %}


{#- data_paths(columns): the JSON paths of a list of (column, path under `data`) pairs, as paths
    from the top of the context: [['data', 'a'], ['data', 'b', 'c'], ...]. -#}
{% macro data_paths(columns) -%}
    {%- set paths = [] -%}
    {%- for column, path in columns -%}
        {%- do paths.append(['data'] + path) -%}
    {%- endfor -%}
    {{ return(paths) }}
{%- endmacro %}
