"""THUNES strategy."""
