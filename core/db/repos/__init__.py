"""Repositories: queries and writes per entity; they flush, the caller commits."""
