"""Shared widgets of the pages: formatting, definitions, KPI cards, badges, charts."""
