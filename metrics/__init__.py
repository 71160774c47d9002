"""The metrics layer: pure polars functions computing every definition of METRICS.md."""
