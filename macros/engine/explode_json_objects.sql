{#-
    explode_json_objects(relation, json_column, key, columns, paths, subdoc_paths): like
    explode_json_array (one row per element of the JSON array at `key`, `columns` carried
    along, `element_index` 1-based), but each element comes out already parsed for the
    fields a model reads, so no element is serialised to text and parsed again:
    - `element_doc`: read its scalar fields with json_field(element_doc, path, paths);
    - `element_subdocs`: read its sub-documents (kept as JSON text) with
      json_subdoc(element_subdocs, path, subdoc_paths).
    Elements that are not objects (null, a number, a string, an array) still give their row,
    every field NULL, as with explode_json_array + json_parse. No path of either list may be a
    prefix of a path of the other (DuckDB reads both in one structure).
    - DuckDB: ONE json_transform of the whole array into a list of structs holding only those
      fields (the array is parsed once, whatever the number of elements and fields), then a
      streaming unnest; element_doc and element_subdocs are the same struct. At 1M events the
      query is ~6 % faster than exploding to text and parsing each element again for its
      schema, fields and sub-documents (scripts/benchmarks/RESULTS.md, sixth round).
    - PostgreSQL: the text cast once to jsonb and its array unnested with jsonb_array_elements
      (elements are already binary: nothing is parsed again); element_doc and element_subdocs
      are the same jsonb element, so a sub-document's text is jsonb's normalised form.
-#}
{% macro explode_json_objects(relation, json_column, key, columns, paths, subdoc_paths) -%}
    {{ return(adapter.dispatch('explode_json_objects', 'telemetry_kpis')(
        relation, json_column, key, columns, paths, subdoc_paths
    )) }}
{%- endmacro %}

{% macro default__explode_json_objects(relation, json_column, key, columns, paths, subdoc_paths) -%}
    {{ telemetry_kpis.engine_not_implemented('explode_json_objects') }}
{%- endmacro %}

{% macro duckdb__explode_json_objects(relation, json_column, key, columns, paths, subdoc_paths) -%}
    {%- set typed_paths = [] -%}
    {%- for path in paths %}{% do typed_paths.append((path, 'VARCHAR')) %}{% endfor -%}
    {%- for path in subdoc_paths %}{% do typed_paths.append((path, 'JSON')) %}{% endfor -%}
    {%- set element_spec = telemetry_kpis.json_struct_spec_typed(typed_paths) -%}
    select
        *,
        element_doc as element_subdocs
    from (
        select
            {%- for column in columns %}
            {{ column }},
            {%- endfor %}
            unnest(elements) as element_doc,
            generate_subscripts(elements, 1) as element_index
        from (
            select
                {%- for column in columns %}
                {{ column }},
                {%- endfor %}
                {%- if key is none %}
                json_transform({{ json_column }}, '[{{ element_spec }}]') as elements
                {%- else %}
                json_transform(
                    {{ json_column }}, '{"{{ key }}": [{{ element_spec }}]}'
                )['{{ key }}'] as elements
                {%- endif %}
            from {{ relation }}
        ) as arrays
    ) as elements
{%- endmacro %}

{% macro postgres__explode_json_objects(relation, json_column, key, columns, paths, subdoc_paths) -%}
    {{ telemetry_kpis.postgres_unnest_json_array(
        relation, json_column, key, columns, 'jsonb',
        ['elements.element as element_doc', 'elements.element as element_subdocs']
    ) }}
{%- endmacro %}

{#- Spark: the text parsed once as a variant and its array exploded; each element stays a
    variant (element_doc and element_subdocs are the same), read by json_field/json_subdoc. -#}
{% macro spark__explode_json_objects(relation, json_column, key, columns, paths, subdoc_paths) -%}
    {{ telemetry_kpis.spark_posexplode_json_array(
        relation, json_column, key, columns,
        ['element_value as element_doc', 'element_value as element_subdocs']
    ) }}
{%- endmacro %}

{#- Snowflake: the text parsed once into a VARIANT and its array flattened; each element is a
    VARIANT already (nothing parsed again); element_doc and element_subdocs are the same. -#}
{% macro snowflake__explode_json_objects(relation, json_column, key, columns, paths, subdoc_paths) -%}
    {{ telemetry_kpis.snowflake_flatten_json_array(
        relation, json_column, key, columns,
        ['elements.value as element_doc', 'elements.value as element_subdocs']
    ) }}
{%- endmacro %}
