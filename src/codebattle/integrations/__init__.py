"""Thin clients to outside services."""
