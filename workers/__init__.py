"""Worker entry points: one Temporal worker per task queue."""
