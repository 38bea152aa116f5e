{#-
    Helpers of the incremental models (metrics.md "Time" and "Loads": incremental processing
    follows the load sequence and this package's own batch markers, never a time from a file
    and never event time).

    batch_at(): the batch marker of this dbt invocation (run_started_at, UTC, as a timestamp
    literal). Every row an incremental model writes in one run gets it, so the next model
    downstream picks up exactly the rows written since its own newest marker, even when it
    failed (or was not selected) in an earlier run.
-#}
{% macro batch_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}


{#-
    max_in_this(column): the newest value of `column` already in this model's table (a scalar
    subquery), or 1900-01-01 when the table is empty. Only valid inside is_incremental().
-#}
{% macro max_in_this(column) -%}
    (
        select coalesce(max({{ column }}), cast('1900-01-01' as timestamp))
        from {{ this }}
    )
{%- endmacro %}


{#-
    changed_in_window(column): on an incremental run, rows whose batch marker `column` (the
    `_kept_at` of the events, the `_changed_at` of the executions) is newer than the newest
    `_changed_at` already in this model's table: what changed since this model last ran, even
    if it failed or was not selected in between. `true` on a full build.
-#}
{% macro changed_in_window(column) -%}
    {%- if is_incremental() -%}
        {{ column }} > {{ telemetry_kpis.max_in_this('_changed_at') }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#-
    create_index(columns, name_suffix): a post-hook creating a plain index on this model's table
    on PostgreSQL (incremental runs look rows up by key: without an index every lookup is a full
    scan); a no-op on DuckDB (its zone maps and hash joins need none, and ART indexes only slow
    the inserts down).
-#}
{% macro create_index(columns, name_suffix) -%}
    {{ return(adapter.dispatch('create_index', 'telemetry_kpis')(columns, name_suffix)) }}
{%- endmacro %}

{% macro default__create_index(columns, name_suffix) -%}
    {{ telemetry_kpis.engine_not_implemented('create_index') }}
{%- endmacro %}

{% macro duckdb__create_index(columns, name_suffix) -%}
    select 1 as no_index_needed
{%- endmacro %}

{% macro postgres__create_index(columns, name_suffix) -%}
    create index if not exists {{ this.identifier }}__{{ name_suffix }}
    on {{ this }} ({{ columns | join(', ') }})
{%- endmacro %}

{#- Spark: parquet has no indexes (its files keep min/max statistics per row group). -#}
{% macro spark__create_index(columns, name_suffix) -%}
    select 1 as no_index_needed
{%- endmacro %}

{#- Snowflake has no indexes on standard tables (micro-partition pruning): nothing to do. -#}
{% macro snowflake__create_index(columns, name_suffix) -%}
    select 1 as no_index_needed
{%- endmacro %}


{#-
    ensure_source_load_index(relation): on PostgreSQL, an index on the raw table's load
    (_load_id, _source_line), so that an incremental run reads only the rows of new loads
    instead of scanning every raw row (created once, idempotent; it does not change the raw
    data; the index of earlier versions, on uploaded_at, is dropped). A no-op on DuckDB: rows
    are appended in load order and zone maps skip old row groups.
-#}
{% macro ensure_source_load_index(relation) -%}
    {{ return(adapter.dispatch('ensure_source_load_index', 'telemetry_kpis')(relation)) }}
{%- endmacro %}

{% macro default__ensure_source_load_index(relation) -%}
    {{ telemetry_kpis.engine_not_implemented('ensure_source_load_index') }}
{%- endmacro %}

{% macro duckdb__ensure_source_load_index(relation) -%}
    select 1 as no_index_needed
{%- endmacro %}

{#- Only on a table: a raw view over a Snowplow loader's table gets no index (index that). -#}
{% macro postgres__ensure_source_load_index(relation) -%}
    do $body$
    begin
        if exists (
            select 1 from pg_tables
            where schemaname = '{{ relation.schema }}' and tablename = '{{ relation.identifier }}'
        ) then
            drop index if exists {{ relation.schema }}.{{ relation.identifier }}__load_time;
            create index if not exists {{ relation.identifier }}__load_id
            on {{ relation }} (_load_id, _source_line);
        end if;
    end
    $body$
{%- endmacro %}

{% macro spark__ensure_source_load_index(relation) -%}
    select 1 as no_index_needed
{%- endmacro %}

{% macro snowflake__ensure_source_load_index(relation) -%}
    select 1 as no_index_needed
{%- endmacro %}


{#-
    changed_since_last_run(column='_kept_at'): the filter of an event-level incremental model:
    on an incremental run, only the rows whose batch marker is newer than the newest marker
    already in this model's table (events whose kept copy changed since); `true` on a full build.
-#}
{% macro changed_since_last_run(column='_kept_at') -%}
    {%- if is_incremental() -%}
        {{ column }} > {{ telemetry_kpis.max_in_this(column) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#-
    Events that leave: a later load can bring a copy of an event that ranks before the copy
    kept so far (an earlier upload) and cannot be used (a content problem). The event then
    leaves stg_snowplow__events, and the incremental models must forget it as a full refresh
    would. Both are pre-hooks (they run before the model's own SQL, on its previous rows):

    The deletes go through delete_rows_where (incremental_spark.sql): a DELETE where the
    engine has one, a rewrite of the table on Spark.

    forget_unusable_events(): on an event-level model, deletes the events whose kept copy
    became unusable since the model's newest _kept_at.

    forget_executions_of_removed_events(): on an execution-level model, deletes the executions
    that lost an event since the model's newest _changed_at (int_telemetry_events keeps a
    tombstone row, is_removed, so that its execution is known); the model's own SQL then writes
    again those that still have events.
-#}
{% macro forget_unusable_events() -%}
    {%- if is_incremental() -%}
        {{ telemetry_kpis.delete_rows_where(this, "event_id in (
            select quarantine.event_id
            from " ~ ref('stg_snowplow__events_quarantine') ~ " as quarantine
            where
                quarantine.check_stage = 'content'
                and quarantine._kept_at > " ~ telemetry_kpis.max_in_this('_kept_at') ~ "
        )") }}
    {%- else -%}
        select 1 as nothing_to_forget
    {%- endif -%}
{%- endmacro %}

{% macro forget_executions_of_removed_events() -%}
    {%- if is_incremental() -%}
        {{ telemetry_kpis.delete_rows_where(this, "execution_id in (
            select events.execution_id
            from " ~ ref('int_telemetry_events') ~ " as events
            where
                events.is_removed
                and events._kept_at > " ~ telemetry_kpis.max_in_this('_changed_at') ~ "
        )") }}
    {%- else -%}
        select 1 as nothing_to_forget
    {%- endif -%}
{%- endmacro %}
