-- Every segment value of kpi_values_by_segment is one its YAML documents: environment = a name
-- of the seed environment_names, `other` or `none`; meltano_version = `<digits>.<digits>` or
-- `unknown`; os = non-blank text; ci = ci | local; fish = guppy | marlin | whale | none (which
-- metric is split by which kind: assert_segments_are_the_registry).
select *
from {{ ref('kpi_values_by_segment') }}
where
    not (
        (
            segment = 'environment'
            and (
                segment_value in ('other', 'none')
                or segment_value in (
                    select seed_names.environment_name
                    from {{ ref('environment_names') }} as seed_names
                )
            )
        )
        or (
            segment = 'meltano_version'
            and (
                segment_value = 'unknown'
                or {{ telemetry_kpis.regex_matches('segment_value', "'^[0-9]+[.][0-9]+$'") }}
            )
        )
        or (segment = 'os' and trim(segment_value) <> '')
        or (segment = 'ci' and segment_value in ('ci', 'local'))
        or (
            segment = 'fish'
            and segment_value in ('guppy', 'marlin', 'whale', 'none')
        )
    )
