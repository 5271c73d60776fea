"""THUNES exchange."""
