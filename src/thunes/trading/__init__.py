"""THUNES trading."""
