"""CSV for spreadsheets: what staff export opens in Excel or LibreOffice."""

from __future__ import annotations

BOM = "\ufeff"  # so spreadsheet programs read the Vietnamese as UTF-8


def spreadsheet_safe(value):
    """A CSV cell that a spreadsheet will not run as a formula (text a citizen typed may start
    with =, +, - or @)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
