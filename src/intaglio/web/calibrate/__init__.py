"""Calibration pages: test cards, their readings, the maker's calibration profiles."""
