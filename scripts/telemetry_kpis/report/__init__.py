"""``kpis report``: a static, offline HTML report of OKRs, key results and health metrics."""
