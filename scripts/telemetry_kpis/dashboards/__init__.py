"""``kpis dashboards``: Apache Superset dashboards as code (an import bundle) and their links.

``bundle`` builds the import bundle from ``kpi_definitions/`` and the metric registry,
``charts``/``layout`` the chart and dashboard YAML in it, ``links`` the addresses of the pages
(used by ``kpis check`` and ``kpis report`` for a key result's dashboard link).
"""
