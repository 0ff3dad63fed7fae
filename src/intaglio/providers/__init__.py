"""Adapters to outside services behind small interfaces, each with a local default (see base.py)."""
