"""THUNES orchestration."""
