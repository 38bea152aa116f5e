{{ config(materialized='view') }}

{#-
    One row per raw row that cannot be used. Order of the checks (first match wins):
    1. row-level problems, on every copy: missing_event_id, invalid_json, invalid_timestamp,
       implausible_timestamp;
    2. dedup of the remaining rows (dropped copies go to stg_snowplow__events_duplicates);
    3. content problems, on the kept copy only: unknown_event, missing_project_context.
    A view on the two incremental base models: exact after every run (a kept copy that loses
    to a better copy later leaves the quarantine at once).
-#}

with raw_rows as (

    select * from {{ ref('base_snowplow__events') }}

),

deduped as (

    select * from {{ ref('base_snowplow__events_deduped') }}

),

row_problems as (

    select
        event_id,
        row_problem as reason,
        row_problem_detail as detail,
        'row' as check_stage,
        cast(0 as {{ dbt.type_bigint() }}) as duplicate_count,
        cast(null as timestamp) as _kept_at,
        event_type,
        uploaded_at,
        _source_file,
        _source_line,
        _load_id,
        row_hash
    from raw_rows
    where row_problem is not null

),

content_problems as (

    select
        event_id,
        content_problem as reason,
        content_problem_detail as detail,
        'content' as check_stage,
        cast(duplicate_count as {{ dbt.type_bigint() }}) as duplicate_count,
        _kept_at,
        event_type,
        uploaded_at,
        _source_file,
        _source_line,
        _load_id,
        row_hash
    from deduped
    where copy_rank = 1 and content_problem is not null

),

unioned as (

    select * from row_problems
    union all
    select * from content_problems

),

final as (

    select
        event_id,
        reason,
        detail,
        check_stage,
        duplicate_count,
        event_type,
        uploaded_at,
        cast(uploaded_at as date) as uploaded_date,
        _source_file,
        _source_line,
        _load_id,
        row_hash,
        _kept_at
    from unioned

)

select * from final
