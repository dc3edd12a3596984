"""Open311 services from Citypin's categories: the list (services.xml) and one definition with
its attributes (services/<code>.xml), in the active language. A service is an active category;
its group, keywords and description come along; `metadata` is true when it has attributes;
`type` is realtime, since a report gets its id at once."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from gis.models import Area, in_language
from incidents.models import Category, CategoryAttribute, Department


def service_list() -> list[dict]:
    categories = Category.objects.filter(active=True).select_related("group").prefetch_related("attributes")
    return [{
        "service_code": c.code,
        "service_name": c.name,
        "description": c.description,
        "metadata": bool(c.attributes.all()),
        "type": "realtime",
        "keywords": c.keywords,
        "group": c.group.name,
    } for c in categories]


def service_definition(code: str) -> dict | None:
    """The definition of an active category, or None."""
    category = Category.objects.filter(active=True, code=code).prefetch_related("attributes").first()
    if category is None:
        return None
    return {"service_code": category.code,
            "attributes": [_attribute(a, i) for i, a in enumerate(category.attributes.all(), start=1)]}


def _attribute(attribute: CategoryAttribute, order: int) -> dict:
    """One attribute in the spec's order. `order` is its rank among the category's (1, 2, …):
    the stored order may repeat or skip."""
    fields = {
        "variable": True,
        "code": attribute.code,
        "datatype": attribute.datatype,
        "required": attribute.required,
        "datatype_description": _datatype_description(attribute),
        "order": order,
        "description": attribute.name,
    }
    if attribute.is_list:
        fields["values"] = [{"key": str(v["key"]), "name": in_language(v.get("name_vi") or str(v["key"]),
                                                                        v.get("name_en") or "")}
                            for v in attribute.values]
    return fields


def _datatype_description(attribute: CategoryAttribute) -> str | None:
    kind = CategoryAttribute.Datatype
    if attribute.datatype == kind.NUMBER:
        low, high = attribute.min_value, attribute.max_value
        if low is not None and high is not None:
            return _("A number from %(min)g to %(max)g.") % {"min": low, "max": high}
        if low is not None:
            return _("A number of at least %(min)g.") % {"min": low}
        if high is not None:
            return _("A number of at most %(max)g.") % {"max": high}
        return _("A number.")
    if attribute.datatype == kind.DATETIME:
        return _("A date and time, e.g. 2026-05-01T08:30:00+07:00.")
    if attribute.datatype == kind.MULTIVALUELIST:
        return _("One or more of the keys, each as attribute[%(code)s][]=key.") % {"code": attribute.code}
    if attribute.datatype == kind.STRING:
        return _("Text of at most %(n)s characters.") % {"n": 200}
    return None


def jurisdiction_ids() -> list[str]:
    """What `jurisdiction_id` may be: the configured id (CITYPIN_OPEN311_JURISDICTION, e.g. a
    domain name), and the code of each area an operations center covers."""
    codes = Area.objects.filter(pk__in=Department.objects.filter(is_operations_center=True, active=True)
                                .values("jurisdiction_id")).order_by("code").values_list("code", flat=True)
    configured = [settings.CITYPIN_OPEN311_JURISDICTION] if settings.CITYPIN_OPEN311_JURISDICTION else []
    return configured + [c for c in codes if c not in configured]
