"""HTTP schemas per entity: XCreate (input), XUpdate (partial input), XPublic (output)."""
