"""Fitters: per-unit reversal points, asymmetric scaling and tau; learning models."""
