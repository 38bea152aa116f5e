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

{#- Snowflake: `timestamp` in the models is TIMESTAMP_NTZ (Snowflake's default
    TIMESTAMP_TYPE_MAPPING). The shape is checked first (regexp_like is a whole-text match; the
    pattern is anchored anyway); try_cast (the text's format detected: ISO, space or T) then
    gives NULL for an impossible date such as month 13. -#}
{% macro snowflake__try_timestamp(text_expr) -%}
    case
        when regexp_like({{ text_expr }}, {{ telemetry_kpis.snowplow_timestamp_pattern() }})
            then try_cast({{ text_expr }} as timestamp_ntz)
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

{#- Snowflake: read with its offset as TIMESTAMP_TZ, converted to UTC, the offset dropped
    (TIMESTAMP_NTZ). Up to 9 fractional digits are kept (DuckDB and PostgreSQL keep 6). -#}
{% macro snowflake__iso_timestamp_to_utc(text_expr) -%}
    case
        when regexp_like({{ text_expr }}, {{ telemetry_kpis.iso_timestamp_pattern() }})
            then cast(
                convert_timezone('UTC', try_cast({{ text_expr }} as timestamp_tz)) as timestamp_ntz
            )
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

{% macro snowflake__days_between(start_date, end_date) -%}
    datediff('day', cast({{ start_date }} as date), cast({{ end_date }} as date))
{%- endmacro %}

{#-
    seconds_between(start_at, end_at): the time from start_at to end_at in seconds with its
    fraction, negative when end_at is earlier, as a double: the exact difference in
    microseconds divided by a million. Every engine gives the same double (the nearest to the
    exact quotient), so a duration or a freshness is equal to the last bit across warehouses
    and the 5-minute lifespan boundary is exact (a difference of two epoch doubles, each
    rounded near 1.8e9 seconds, is not).
-#}
{% macro seconds_between(start_at, end_at) -%}
    {{ return(adapter.dispatch('seconds_between', 'telemetry_kpis')(start_at, end_at)) }}
{%- endmacro %}

{% macro default__seconds_between(start_at, end_at) -%}
    {{ telemetry_kpis.engine_not_implemented('seconds_between') }}
{%- endmacro %}

{% macro duckdb__seconds_between(start_at, end_at) -%}
    (cast(epoch_us({{ end_at }}) - epoch_us({{ start_at }}) as double) / 1000000)
{%- endmacro %}

{#- PostgreSQL: the interval's epoch is an exact numeric (days, seconds and microseconds). -#}
{% macro postgres__seconds_between(start_at, end_at) -%}
    cast(extract(epoch from ({{ end_at }} - {{ start_at }})) as double precision)
{%- endmacro %}

{#- Snowflake: datediff counts microsecond boundaries: exact for microsecond timestamps. -#}
{% macro snowflake__seconds_between(start_at, end_at) -%}
    (cast(datediff('microsecond', {{ start_at }}, {{ end_at }}) as double) / 1000000)
{%- endmacro %}

{% macro spark__seconds_between(start_at, end_at) -%}
    (cast(unix_micros({{ end_at }}) - unix_micros({{ start_at }}) as double) / 1000000)
{%- endmacro %}
