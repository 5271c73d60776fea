"""THUNES sim."""
