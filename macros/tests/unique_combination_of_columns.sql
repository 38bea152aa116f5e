{#-
    Generic test: the combination of columns is unique (NULLs compare equal, so a null plugin
    command counts as one value).

        - unique_combination_of_columns:
            combination: [execution_id, plugin_name_hash, plugin_command]
-#}
{% test unique_combination_of_columns(model, combination) %}
    select
        {{ combination | join(', ') }},
        count(*) as row_count
    from {{ model }}
    group by {{ combination | join(', ') }}
    having count(*) > 1
{% endtest %}
