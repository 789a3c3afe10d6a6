"""Pieces every feature shares: the audit trail, the union tree, reading and writing spreadsheets."""
