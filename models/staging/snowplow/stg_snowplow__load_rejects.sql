{{ config(materialized='view') }}

{#-
    Lines `kpis load` could not turn into a raw row (invalid JSON, wrong TSV field count, ...),
    one row each, by day of load: with the quarantine they make up the bad rows of
    `bad_event_share`. The rejected table is written by `kpis load` only; a warehouse filled by
    another Snowplow loader has none, and this model is then empty rather than an error.
-#}

{%- set rejected = source('snowplow', 'snowplow_events_rejected') -%}
{%- set rejected_exists = execute and adapter.get_relation(
    database=rejected.database,
    schema=rejected.schema,
    identifier=rejected.identifier,
) is not none -%}

with rejected as (

    {% if rejected_exists -%}
        select
            source_file,
            cast(line_number as {{ dbt.type_bigint() }}) as line_number,
            reason,
            cast(rejected_at as timestamp) as rejected_at
        from {{ rejected }}
    {%- else -%}
        select
            cast(null as {{ dbt.type_string() }}) as source_file,
            cast(null as {{ dbt.type_bigint() }}) as line_number,
            cast(null as {{ dbt.type_string() }}) as reason,
            cast(null as timestamp) as rejected_at
        where 1 = 0
    {%- endif %}

),

final as (

    select
        source_file,
        line_number,
        reason,
        rejected_at,
        cast(rejected_at as date) as rejected_date
    from rejected

)

select * from final
