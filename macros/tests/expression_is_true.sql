{#-
    Generic test: the SQL boolean expression holds on every row (rows where it is false or
    null fail). Optional `where` narrows the rows checked (dbt's own config also works).

        - expression_is_true:
            expression: "is_success = (exit_code = 0)"
-#}
{% test expression_is_true(model, expression, column_name=none) %}
    select * from {{ model }}
    where not coalesce({{ expression }}, false)
{% endtest %}
