{#-
    raw_row_text(): the canonical text of a whole raw row (every atomic column of
    raw.snowplow_events, in the enriched TSV order, then load_tstamp; NULL as an empty field),
    joined by the ASCII unit separator. Staging hashes it (sha256_hex) to break dedup ties
    identically on every engine. The column list mirrors scripts/telemetry_kpis/atomic.py
    (RAW_TEXT_COLUMNS); load bookkeeping (uploaded_at, _source_file, _source_line) is not part
    of the row's content.
-#}
{% macro raw_atomic_columns() -%}
    {{ return([
        'app_id', 'platform', 'etl_tstamp', 'collector_tstamp', 'dvce_created_tstamp',
        'event', 'event_id', 'txn_id', 'name_tracker', 'v_tracker', 'v_collector',
        'v_etl', 'user_id', 'user_ipaddress', 'user_fingerprint', 'domain_userid',
        'domain_sessionidx', 'network_userid', 'geo_country', 'geo_region', 'geo_city',
        'geo_zipcode', 'geo_latitude', 'geo_longitude', 'geo_region_name', 'ip_isp',
        'ip_organization', 'ip_domain', 'ip_netspeed', 'page_url', 'page_title',
        'page_referrer', 'page_urlscheme', 'page_urlhost', 'page_urlport',
        'page_urlpath', 'page_urlquery', 'page_urlfragment', 'refr_urlscheme',
        'refr_urlhost', 'refr_urlport', 'refr_urlpath', 'refr_urlquery',
        'refr_urlfragment', 'refr_medium', 'refr_source', 'refr_term', 'mkt_medium',
        'mkt_source', 'mkt_term', 'mkt_content', 'mkt_campaign', 'contexts',
        'se_category', 'se_action', 'se_label', 'se_property', 'se_value',
        'unstruct_event', 'tr_orderid', 'tr_affiliation', 'tr_total', 'tr_tax',
        'tr_shipping', 'tr_city', 'tr_state', 'tr_country', 'ti_orderid', 'ti_sku',
        'ti_name', 'ti_category', 'ti_price', 'ti_quantity', 'pp_xoffset_min',
        'pp_xoffset_max', 'pp_yoffset_min', 'pp_yoffset_max', 'useragent', 'br_name',
        'br_family', 'br_version', 'br_type', 'br_renderengine', 'br_lang',
        'br_features_pdf', 'br_features_flash', 'br_features_java',
        'br_features_director', 'br_features_quicktime', 'br_features_realplayer',
        'br_features_windowsmedia', 'br_features_gears', 'br_features_silverlight',
        'br_cookies', 'br_colordepth', 'br_viewwidth', 'br_viewheight', 'os_name',
        'os_family', 'os_manufacturer', 'os_timezone', 'dvce_type', 'dvce_ismobile',
        'dvce_screenwidth', 'dvce_screenheight', 'doc_charset', 'doc_width',
        'doc_height', 'tr_currency', 'tr_total_base', 'tr_tax_base', 'tr_shipping_base',
        'ti_currency', 'ti_price_base', 'base_currency', 'geo_timezone', 'mkt_clickid',
        'mkt_network', 'etl_tags', 'dvce_sent_tstamp', 'refr_domain_userid',
        'refr_dvce_tstamp', 'derived_contexts', 'domain_sessionid', 'derived_tstamp',
        'event_vendor', 'event_name', 'event_format', 'event_version',
        'event_fingerprint', 'true_tstamp', 'load_tstamp'
    ]) }}
{%- endmacro %}

{% macro raw_row_text(relation_alias=none) -%}
    {{ return(adapter.dispatch('raw_row_text', 'telemetry_kpis')(relation_alias)) }}
{%- endmacro %}

{% macro default__raw_row_text(relation_alias=none) -%}
    {{ telemetry_kpis.engine_not_implemented('raw_row_text') }}
{%- endmacro %}

{#- The two ways of joining the columns; each engine picks one. raw_row_text_concat: one
    concat() call (a chain of || copies the growing text once per column); raw_row_text_chained:
    the columns chained with || (PostgreSQL functions take at most 100 arguments). -#}
{% macro raw_row_text_concat(relation_alias) -%}
    {%- set prefix = (relation_alias ~ '.') if relation_alias else '' -%}
    concat(
    {%- for column in telemetry_kpis.raw_atomic_columns() %}
        coalesce({{ prefix }}{{ column }}, ''){% if not loop.last %}, chr(31),{% endif %}
    {%- endfor %}
    )
{%- endmacro %}

{% macro raw_row_text_chained(relation_alias) -%}
    {%- set prefix = (relation_alias ~ '.') if relation_alias else '' -%}
    {%- for column in telemetry_kpis.raw_atomic_columns() %}
        coalesce({{ prefix }}{{ column }}, ''){% if not loop.last %} || chr(31) ||{% endif %}
    {%- endfor %}
{%- endmacro %}

{% macro duckdb__raw_row_text(relation_alias=none) -%}
    {{ telemetry_kpis.raw_row_text_concat(relation_alias) }}
{%- endmacro %}

{% macro postgres__raw_row_text(relation_alias=none) -%}
    {{ telemetry_kpis.raw_row_text_chained(relation_alias) }}
{%- endmacro %}

{% macro spark__raw_row_text(relation_alias=none) -%}
    {{ telemetry_kpis.raw_row_text_concat(relation_alias) }}
{%- endmacro %}

{#- Snowflake: chained, as PostgreSQL (no argument-count question for concat()). -#}
{% macro snowflake__raw_row_text(relation_alias=none) -%}
    {{ telemetry_kpis.raw_row_text_chained(relation_alias) }}
{%- endmacro %}
