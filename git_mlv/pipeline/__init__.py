"""Pipelines: stages in .gitmlv, the lock, the DAG, reproduction, run-cache, metrics (docs/pipelines.md)."""
