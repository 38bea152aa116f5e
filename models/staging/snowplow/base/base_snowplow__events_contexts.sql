{{ config(materialized='view') }}

{#-
    The raw `contexts` text of every raw row, by the row's key (load, line). Not
    stored anywhere else: int_event_contexts reads it for the kept copies it (re)parses, so the
    3.5 KB JSON column exists once (in raw) and is parsed once per kept copy.
-#}

with source as (

    select * from {{ source('snowplow', 'snowplow_events') }}

),

final as (

    select
        cast(_load_id as {{ dbt.type_bigint() }}) as _load_id,
        cast(_source_line as {{ dbt.type_bigint() }}) as _source_line,
        nullif(contexts, '') as contexts
    from source

)

select * from final
