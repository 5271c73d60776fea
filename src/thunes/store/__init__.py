"""THUNES store."""
