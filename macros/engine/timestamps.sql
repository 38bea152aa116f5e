{#-
    try_timestamp(text_expr): a Snowplow timestamp text (`YYYY-MM-DD HH:MM:SS[.ffffff]`, a
    `T` separator allowed, UTC, no offset) as a timestamp without time zone; NULL when the text
    is not in that shape or not a real date/time (e.g. month 13). Both engines accept exactly
    the same texts: the shape is checked by the same regular expression first.
-#}
{% macro snowplow_timestamp_pattern() -%}
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,6})?$'
{%- endmacro %}

{% macro try_timestamp(text_expr) -%}
    {{ return(adapter.dispatch('try_timestamp', 'telemetry_kpis')(text_expr)) }}
{%- endmacro %}

{% macro default__try_timestamp(text_expr) -%}
    {{ telemetry_kpis.engine_not_implemented('try_timestamp') }}
{%- endmacro %}

{% macro duckdb__try_timestamp(text_expr) -%}
    case
        when regexp_full_match({{ text_expr }}, {{ telemetry_kpis.snowplow_timestamp_pattern() }})
            then try_cast({{ text_expr }} as timestamp)
    end
{%- endmacro %}

{% macro postgres__try_timestamp(text_expr) -%}
    case
        when {{ text_expr }} ~ {{ telemetry_kpis.snowplow_timestamp_pattern() }}
            then telemetry_kpis.try_timestamp({{ text_expr }})
    end
{%- endmacro %}

{#- Spark: try_to_timestamp reads both separators; the session time zone is UTC (profiles.yml),
    so its TIMESTAMP holds the same wall-clock time. -#}
{% macro spark__try_timestamp(text_expr) -%}
    case
        when {{ text_expr }} rlike {{ telemetry_kpis.snowplow_timestamp_pattern() }}
            then try_to_timestamp({{ text_expr }})
    end
{%- endmacro %}


{#-
    iso_timestamp_to_utc(text_expr): an ISO 8601 timestamp with an offset or `Z` (as the CLI
    writes exit_timestamp, e.g. 2026-07-01T14:09:00.977794+00:00) converted to a UTC timestamp
    without time zone; NULL when the text is not in that shape (an offset beyond +-14:59 is not
    a real one: DuckDB would read +99:99, PostgreSQL refuses it) or not a real date/time
    (February 30th): never an error.
-#}
{% macro iso_timestamp_pattern() -%}
    {{- "'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
        ~ "([.][0-9]{1,9})?(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])$'" -}}
{%- endmacro %}

{% macro iso_timestamp_to_utc(text_expr) -%}
    {{ return(adapter.dispatch('iso_timestamp_to_utc', 'telemetry_kpis')(text_expr)) }}
{%- endmacro %}

{% macro default__iso_timestamp_to_utc(text_expr) -%}
    {{ telemetry_kpis.engine_not_implemented('iso_timestamp_to_utc') }}
{%- endmacro %}

{% macro duckdb__iso_timestamp_to_utc(text_expr) -%}
    case
        when regexp_full_match({{ text_expr }}, {{ telemetry_kpis.iso_timestamp_pattern() }})
            then cast(
                timezone('UTC', try_cast({{ text_expr }} as timestamptz)) as timestamp
            )
    end
{%- endmacro %}

{% macro postgres__iso_timestamp_to_utc(text_expr) -%}
    case
        when {{ text_expr }} ~ {{ telemetry_kpis.iso_timestamp_pattern() }}
            then telemetry_kpis.try_timestamptz_utc({{ text_expr }})
    end
{%- endmacro %}

{#- Spark: try_to_timestamp applies the offset; the session time zone is UTC. -#}
{% macro spark__iso_timestamp_to_utc(text_expr) -%}
    case
        when {{ text_expr }} rlike {{ telemetry_kpis.iso_timestamp_pattern() }}
            then try_to_timestamp({{ text_expr }})
    end
{%- endmacro %}


{#-
    days_between(start_date, end_date): whole calendar days from start_date to end_date
    (end - start) as an integer, for date (or timestamp, truncated to its date) arguments.
-#}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between', 'telemetry_kpis')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__days_between(start_date, end_date) -%}
    {{ telemetry_kpis.engine_not_implemented('days_between') }}
{%- endmacro %}

{% macro duckdb__days_between(start_date, end_date) -%}
    date_diff('day', cast({{ start_date }} as date), cast({{ end_date }} as date))
{%- endmacro %}

{% macro postgres__days_between(start_date, end_date) -%}
    (cast({{ end_date }} as date) - cast({{ start_date }} as date))
{%- endmacro %}

{% macro spark__days_between(start_date, end_date) -%}
    datediff(cast({{ end_date }} as date), cast({{ start_date }} as date))
{%- endmacro %}


{#-
    epoch_seconds(timestamp_expr): seconds since 1970-01-01 00:00:00 of a timestamp without
    time zone (read as UTC), with its microseconds as the fraction; subtract two to get a
    duration in seconds.
-#}
{% macro epoch_seconds(timestamp_expr) -%}
    {{ return(adapter.dispatch('epoch_seconds', 'telemetry_kpis')(timestamp_expr)) }}
{%- endmacro %}

{% macro default__epoch_seconds(timestamp_expr) -%}
    {{ telemetry_kpis.engine_not_implemented('epoch_seconds') }}
{%- endmacro %}

{% macro duckdb__epoch_seconds(timestamp_expr) -%}
    extract(epoch from {{ timestamp_expr }})
{%- endmacro %}

{% macro postgres__epoch_seconds(timestamp_expr) -%}
    extract(epoch from {{ timestamp_expr }})
{%- endmacro %}

{#- Spark: the microseconds as a double divided by a million, as DuckDB computes it. -#}
{% macro spark__epoch_seconds(timestamp_expr) -%}
    (cast(unix_micros({{ timestamp_expr }}) as double) / 1000000)
{%- endmacro %}
