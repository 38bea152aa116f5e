"""``kpis handbook``: the public "Data Team KPIs" handbook page (Markdown and HTML)."""
