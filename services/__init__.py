"""Write use cases: each a plain function called explicitly inside the caller's transaction."""
