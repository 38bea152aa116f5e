{#-
    Generic test: every (schema name, version) pair of the model is a published com.meltano
    schema version (published_schema_versions()). Rows of other vendors or unknown schema names
    are ignored (staging quarantines unknown events; unknown contexts are simply unused). Use
    with `config: {severity: warn}`: an unseen version is parsed anyway, the warning says so.

        - accepted_schema_versions:
            schema_name_column: schema_name
            vendor_column: schema_vendor
-#}
{% test accepted_schema_versions(model, column_name, schema_name_column, vendor_column=none) %}
    {%- set published = telemetry_kpis.published_schema_versions() %}

    with versions as (

        select
            {{ schema_name_column }} as schema_name,
            {{ column_name }} as schema_version,
            count(*) as row_count
        from {{ model }}
        where
            {{ schema_name_column }} in ('{{ published.keys() | list | join("', '") }}')
            {%- if vendor_column %}
            and {{ vendor_column }} = 'com.meltano'
            {%- endif %}
        group by {{ schema_name_column }}, {{ column_name }}

    )

    select * from versions
    where
        {%- for name, versions in published.items() %}
        (schema_name = '{{ name }}'
            and (schema_version is null
                or schema_version not in ('{{ versions | join("', '") }}')))
        {%- if not loop.last %} or{% endif %}
        {%- endfor %}
{% endtest %}
