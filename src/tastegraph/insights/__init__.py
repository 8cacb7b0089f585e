"""Content economics for the operator: audience insights per title, revenue, break-even and the
local-content report (see docs/insights.md)."""
