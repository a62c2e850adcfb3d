"""Workspace search index: syntax-aware chunking of source files for a lexical index."""
