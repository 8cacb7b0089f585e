"""Statistics: charts and totals, computed from the play log, in each user's time zone."""
