"""User-facing verbs. Each function returns data and never prints; the CLI renders it."""
