{#-
    The incremental materialization on Spark: delete+insert on `unique_key`, as dbt's
    delete+insert on DuckDB, PostgreSQL and Snowflake, with what parquet tables support (no
    DELETE, no MERGE without Delta or Iceberg: ../shared/docs/toolchain.md "Spark").

    A first run or a full refresh creates the table from the model's SQL. An incremental run:
    1. `<model>__dbt_new`: the model's rows of this run, materialised once (the model reads
       its own table for its batch markers, and Spark cannot overwrite a table a query reads);
    2. when no row of the table has one of their keys (rows of new loads only): an append;
    3. otherwise the table is rewritten without the rows being replaced (copy on write):
       `<model>__dbt_kept`, the table's rows whose key is not among the new ones, then an
       `insert overwrite` of the table with both (its own columns, in its order);
    then the work tables are dropped. The pre-hooks (forget_*) run before step 1, with
    delete_rows_where's copy on write. A rewrite reads and writes the whole table (parquet,
    no JSON parsed again); docs/scale.md says when Delta's or Iceberg's MERGE should take over.
    A key is matched with `=`, so a null key never replaces a row (as delete ... in (...)).
-#}
{% materialization incremental, adapter='spark' -%}
    {%- set unique_key = config.require('unique_key') -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set strategy = config.get('incremental_strategy') or 'delete+insert' -%}
    {%- if strategy != 'delete+insert' -%}
        {{ exceptions.raise_compiler_error(
            "telemetry_kpis' Spark incremental materialization only does delete+insert, not "
            ~ strategy ~ " (model " ~ this ~ ")"
        ) }}
    {%- endif -%}
    {%- set on_schema_change = incremental_validate_on_schema_change(
        config.get('on_schema_change'), default='fail'
    ) -%}
    {%- set existing_relation = load_relation(this) -%}
    {%- set new_rows = this.incorporate(path={'identifier': this.identifier ~ '__dbt_new'}) -%}
    {%- set kept_rows = this.incorporate(path={'identifier': this.identifier ~ '__dbt_kept'}) -%}

    {{ run_hooks(pre_hooks) }}

    {%- if existing_relation is none or existing_relation.is_view or should_full_refresh() -%}
        {%- if existing_relation is not none -%}
            {% do adapter.drop_relation(existing_relation) %}
        {%- endif -%}
        {%- call statement('main') -%}
            {{ create_table_as(False, this, compiled_code) }}
        {%- endcall -%}
    {%- else -%}
        {% do telemetry_kpis.spark_drop_table(new_rows) %}
        {% do telemetry_kpis.spark_drop_table(kept_rows) %}
        {%- call statement('new_rows') -%}
            create table {{ new_rows }} using parquet as {{ compiled_code }}
        {%- endcall -%}
        {%- do process_schema_changes(on_schema_change, new_rows, existing_relation) -%}
        {%- set column_list = adapter.get_columns_in_relation(existing_relation)
            | map(attribute='quoted') | join(', ') -%}
        {%- set key_match -%}
            {%- for key in keys %}
            existing.{{ key }} = replacing.{{ key }}{% if not loop.last %} and{% endif %}
            {%- endfor %}
        {%- endset -%}
        {%- call statement('replaced_keys', fetch_result=True) -%}
            select count(*) from (
                select 1 from {{ existing_relation }} as existing
                left semi join {{ new_rows }} as replacing
                    on {{ key_match }}
                limit 1
            ) as any_replaced_row
        {%- endcall -%}
        {%- if load_result('replaced_keys')['data'][0][0] | int == 0 -%}
            {#- Nothing replaced (e.g. rows of new loads only): an append. -#}
            {%- call statement('main') -%}
                insert into {{ this }} select {{ column_list }} from {{ new_rows }}
            {%- endcall -%}
        {%- else -%}
            {%- call statement('kept_rows') -%}
                create table {{ kept_rows }} using parquet as
                select existing.* from {{ existing_relation }} as existing
                left anti join {{ new_rows }} as replacing
                    on {{ key_match }}
            {%- endcall -%}
            {%- call statement('main') -%}
                insert overwrite table {{ this }}
                select {{ column_list }} from {{ kept_rows }}
                union all
                select {{ column_list }} from {{ new_rows }}
            {%- endcall -%}
        {%- endif -%}
        {% do telemetry_kpis.spark_drop_table(new_rows) %}
        {% do telemetry_kpis.spark_drop_table(kept_rows) %}
    {%- endif -%}

    {% do persist_docs(this, model) %}
    {{ run_hooks(post_hooks) }}
    {{ return({'relations': [this]}) }}
{%- endmaterialization %}


{% macro spark_drop_table(relation) -%}
    {% do run_query('drop table if exists ' ~ relation) %}
{%- endmacro %}


{#-
    delete_rows_where(relation, condition): delete the rows of `relation` for which the SQL
    `condition` is true, as one statement to run (a hook): `delete from` on DuckDB,
    PostgreSQL and Snowflake. On Spark (no DELETE on parquet) the table is rewritten without those rows
    (copy on write, run here, and only when a row matches) and the statement returned is a
    no-op; a row whose condition is null would be dropped there, so the condition must never
    be null (the callers test a not-null key with `in`).
-#}
{% macro delete_rows_where(relation, condition) -%}
    {{ return(adapter.dispatch('delete_rows_where', 'telemetry_kpis')(relation, condition)) }}
{%- endmacro %}

{% macro default__delete_rows_where(relation, condition) -%}
    {{ telemetry_kpis.engine_not_implemented('delete_rows_where') }}
{%- endmacro %}

{% macro duckdb__delete_rows_where(relation, condition) -%}
    delete from {{ relation }} where {{ condition }}
{%- endmacro %}

{% macro postgres__delete_rows_where(relation, condition) -%}
    delete from {{ relation }} where {{ condition }}
{%- endmacro %}

{% macro snowflake__delete_rows_where(relation, condition) -%}
    delete from {{ relation }} where {{ condition }}
{%- endmacro %}

{% macro spark__delete_rows_where(relation, condition) -%}
    {%- if execute -%}
        {%- set kept_rows = relation.incorporate(
            path={'identifier': relation.identifier ~ '__dbt_kept'}
        ) -%}
        {%- set matching = run_query(
            'select count(*) from (select 1 from ' ~ relation ~ ' where ' ~ condition
            ~ ' limit 1) as any_row'
        ) -%}
        {%- if matching.columns[0].values()[0] | int > 0 -%}
            {% do telemetry_kpis.spark_drop_table(kept_rows) %}
            {% do run_query(
                'create table ' ~ kept_rows ~ ' using parquet as select * from ' ~ relation
                ~ ' where not (' ~ condition ~ ')'
            ) %}
            {% do run_query(
                'insert overwrite table ' ~ relation ~ ' select * from ' ~ kept_rows
            ) %}
            {% do telemetry_kpis.spark_drop_table(kept_rows) %}
        {%- endif -%}
    {%- endif -%}
    select 1 as rows_deleted_by_rewriting_the_table
{%- endmacro %}
