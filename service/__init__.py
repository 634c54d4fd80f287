"""Talent supply-demand matching service for city-level industry-education consortia."""

__version__ = "0.1.0"
