"""Jinja2 templates dsenv renders (package data)."""
