"""Activities: one module per task queue, each a set of @activity.defn methods."""
