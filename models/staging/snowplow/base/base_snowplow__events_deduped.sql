{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_id',
        post_hook=[
            "{{ telemetry_kpis.create_index(['event_id'], 'event_id') }}",
            "{{ telemetry_kpis.create_index(['_kept_at'], 'kept_at') }}",
        ],
    )
}}

{#-
    Every copy without a row-level problem, ranked per event_id in the contract's deterministic
    order (earliest uploaded_at, then earliest collector time, then the smallest hash of the
    whole row; the load and line only break exact ties between identical copies, so a reload
    or replay of a copy never replaces the copy already kept). The kept copy
    has copy_rank = 1; its content_problem decides whether the event is usable.

    Incremental: the event_ids with a copy written to base_snowplow__events since this model's
    newest `_batch_at` are re-ranked from ALL their copies (not only the new ones), and all their
    rows replaced (delete+insert on event_id), so ranks and duplicate counts are exact whatever
    the arrival order. `_kept_at` is the batch in which the current kept copy became the kept
    copy: the event-level models downstream only re-read events whose kept copy changed (a new
    duplicate that loses changes nothing downstream but the duplicate counts).
-#}

with base_rows as (

    select * from {{ ref('base_snowplow__events') }}
    where row_problem is null

),

{% if is_incremental() %}

affected_events as (

    select distinct event_id from base_rows
    where _batch_at > {{ telemetry_kpis.max_in_this('_batch_at') }}

),

copies as (

    select base_rows.*
    from base_rows
    inner join affected_events on base_rows.event_id = affected_events.event_id

),

previously_kept as (

    select
        this_model.event_id,
        this_model._load_id,
        this_model._source_line,
        this_model._kept_at
    from {{ this }} as this_model
    inner join affected_events on this_model.event_id = affected_events.event_id
    where this_model.copy_rank = 1

),

{% else %}

    copies as (

        select * from base_rows

    ),

{% endif %}

ranked as (

    select
        copies.*,
        row_number() over (
            partition by copies.event_id
            order by
                copies.uploaded_at asc nulls last,
                copies.collector_at asc,
                copies.row_hash asc,
                copies._load_id asc,
                copies._source_line asc
        ) as copy_rank,
        count(*) over (partition by copies.event_id) - 1 as duplicate_count
    from copies

),

kept as (

    select
        ranked.event_id,
        {% if is_incremental() -%}
            coalesce(previously_kept._kept_at, {{ telemetry_kpis.batch_at() }}) as _kept_at
        {%- else -%}
            {{ telemetry_kpis.batch_at() }} as _kept_at
        {%- endif %}
    from ranked
    {%- if is_incremental() %}
    left join previously_kept
        on
            ranked.event_id = previously_kept.event_id
            and ranked._load_id = previously_kept._load_id
            and ranked._source_line = previously_kept._source_line
    {%- endif %}
    where ranked.copy_rank = 1

),

final as (

    select
        ranked.event_id,
        ranked.copy_rank,
        ranked.duplicate_count,
        ranked.event_type,
        ranked.collector_tstamp,
        ranked.derived_tstamp,
        ranked.collector_at,
        ranked.event_at,
        ranked.device_created_at,
        ranked.device_sent_at,
        ranked.uploaded_at,
        ranked.ip_hash,
        ranked.app_id,
        ranked.platform,
        ranked.name_tracker,
        ranked.v_tracker,
        ranked.useragent,
        ranked.se_category,
        ranked.se_action,
        ranked.se_label,
        ranked.se_property,
        ranked.se_value,
        ranked._source_file,
        ranked._source_line,
        ranked._load_id,
        ranked._loaded_at,
        ranked.row_hash,
        ranked.event_schema,
        ranked.event_data,
        ranked.has_contexts,
        ranked.has_project_context,
        ranked.event_schema_vendor,
        ranked.event_schema_name,
        ranked.event_schema_format,
        ranked.event_schema_version,
        ranked.content_problem,
        ranked.content_problem_detail,
        kept._kept_at,
        {{ telemetry_kpis.batch_at() }} as _batch_at
    from ranked
    inner join kept on ranked.event_id = kept.event_id

)

select * from final
