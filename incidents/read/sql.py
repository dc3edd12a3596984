"""SQL fragments every read shares, public and staff: the joins of a report row and names in
the reader's language."""

from __future__ import annotations

from django.db.models import F, Value
from django.db.models.functions import Coalesce, Collate, NullIf
from django.utils.translation import get_language


def language(code: str | None = None) -> str:
    """'en' or 'vi', the two languages names and texts are stored in, for a language code
    (None: the active one). Anything but English reads Vietnamese."""
    code = get_language() if code is None else code
    return "en" if (code or "").startswith("en") else "vi"


def localized(alias: str) -> str:
    """The name of the row aliased `alias` in the language %(lang)s ('vi' or 'en')."""
    return f"CASE WHEN %(lang)s = 'en' AND {alias}.name_en <> '' THEN {alias}.name_en ELSE {alias}.name_vi END"


def by_name(prefix: str = "") -> Collate:
    """ORDER BY expression for a bilingual name (name_vi, name_en) in the reader's language,
    sorted the Vietnamese way (vi_icu, an ICU collation: geo migration 0003): "Đại Thành"
    after "Dương", "Thốt" before "Thuận". `prefix` reaches a related row ("department__")."""
    vi = F(f"{prefix}name_vi")
    name = Coalesce(NullIf(F(f"{prefix}name_en"), Value("")), vi) if language() == "en" else vi
    return Collate(name, "vi_icu")


# A report r with its category c, its department d and its ward w (if any).
REPORT_FROM_SQL = """
FROM incidents_report r
JOIN incidents_category c ON c.id = r.category_id
JOIN incidents_department d ON d.id = r.department_id
LEFT JOIN geo_area w ON w.id = r.ward_id
"""
