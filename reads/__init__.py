"""Read models: one per page, API answer or export shape, built from scoped queries and the
domain core. Nothing here writes."""
