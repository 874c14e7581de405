"""RunWorkflow: the Temporal workflow that interprets a compiled plan."""
