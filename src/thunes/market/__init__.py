"""THUNES market."""
