"""THUNES notify."""
