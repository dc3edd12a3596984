"""Mail templates: what each notice says, per event and language.

A template is the admin's MessageTemplate row for (event, language) when there is one, else
the file pair incidents/email/<event>_subject.txt / _body.txt rendered in that language. Both
see only a safe context of plain values (never a model: a template cannot reach the reporter's
address or phone through `report.…`), listed per event in VARIABLES. A row is checked before it
is saved (check_template): its syntax, the variables it uses, and no tag that reads other
templates. Text is rendered without escaping (it is plain text); the HTML alternative is made
from the text by the e-mail channel, autoescaped. A row that still fails when a notice renders
(it cannot, once checked; but a mail must never roll back the change that caused it) falls back
to the file template."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.template import Context, Engine, Node, TemplateSyntaxError
from django.template.base import FilterExpression, TokenType, Variable
from django.template.defaulttags import ForNode, WithNode
from django.template.loader import render_to_string
from django.template.loader_tags import BlockNode, ExtendsNode, IncludeNode
from django.templatetags.i18n import BlockTranslateNode, GetCurrentLanguageNode, TranslateNode
from django.utils.timezone import localtime
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _

from incidents.models import Department, MessageTemplate, Notice, Report

log = logging.getLogger("citypin.mail")

# What a template may use of a report: its public face, plus the console link and the
# department's target (staff mail). Never the reporter's name, e-mail, phone or IP.
REPORT_KEYS = {
    "public_id": "HN-2026-000123",
    "category": "Ổ gà",
    "status": "đã xử lý",
    "address": "12 Đường 3/2, Ninh Kiều",
    "description": "Ổ gà lớn giữa làn xe máy",
    "department": "Sở Xây dựng",
    "url": "/r/HN-2026-000123/",
    "console_url": "/console/r/HN-2026-000123/",
    "acknowledge_by": "2026-11-30 17:00",
    "target_resolve_hours": 72,
    "latitude": "10.030000",
    "longitude": "105.770000",
    "why_this_department": "Ổ gà trên đường do Sở Xây dựng quản lý.",
    "supporter_count": 10,
}
REPORT_EVENTS = [e for e in Notice.values if e != Notice.DEAD_MESSAGES]
CITIZEN_EVENTS = {Notice.RECEIPT, Notice.STATUS, Notice.REPLY}
# Each event's variables (besides site_url) and sample values for the admin's preview.
VARIABLES: dict[str, dict[str, object]] = {
    **{event: {"report": REPORT_KEYS} for event in REPORT_EVENTS},
    Notice.DEAD_MESSAGES: {"dead_count": 12, "new_dead_count": 3, "by_channel": "email: 2, webhook: 1",
                           "admin_url": "/admin/incidents/outboxmessage/?state=dead"},
}
for _event in (Notice.ROUTED, Notice.REROUTED, Notice.REOPENED, Notice.MILESTONE, Notice.ESCALATED):
    VARIABLES[_event]["department"] = {"name": "Sở Xây dựng"}
for _event in (Notice.STATUS, Notice.REPLY, Notice.REOPENED):
    VARIABLES[_event]["message"] = "Đã vá xong."
for _event in CITIZEN_EVENTS:
    VARIABLES[_event]["unsubscribe_url"] = "/unsubscribe/…/"
# A rerouted report's mail is the routed one unless the admin writes its own.
FILE_TEMPLATE = {Notice.REROUTED: Notice.ROUTED}
SUBJECT_LENGTH = 200

# Text templates: plain text, nothing escaped; i18n tags without {% load %}; no loaders, so a
# template can never read another file.
TEXT_ENGINE = Engine(dirs=[], app_dirs=False, loaders=[], autoescape=False,
                     libraries={"i18n": "django.templatetags.i18n"}, builtins=["django.templatetags.i18n"])
FORBIDDEN_NODES = (IncludeNode, ExtendsNode, BlockNode)


@dataclass
class Rendered:
    subject: str
    body: str


def one_line(subject: str) -> str:
    """A subject is one line, whatever the template wrote: no header can be injected."""
    return " ".join(subject.split())[:SUBJECT_LENGTH]


# The sample's words in English, for a preview of an English template.
SAMPLE_EN = {"category": "Pothole", "status": "resolved", "description": "A large pothole in the motorbike lane",
             "department": "Department of Construction",
             "why_this_department": "Potholes on this road are the Department of Construction's.",
             "name": "Department of Construction", "message": "Fixed."}


def sample_context(event: str, language: str = "vi") -> dict:
    """Made-up values of every variable of `event`, in `language`, for checks and previews."""
    site = settings.CITYPIN_SITE_URL
    context = {key: dict(value) if isinstance(value, dict) else value for key, value in VARIABLES[event].items()}
    if language == "en":
        for value in context.values():
            if isinstance(value, dict):
                value.update({k: v for k, v in SAMPLE_EN.items() if k in value})
        if "message" in context:
            context["message"] = SAMPLE_EN["message"]
    for key in ("url", "console_url"):
        if "report" in context:
            context["report"][key] = site + context["report"][key]
    for key in ("unsubscribe_url", "admin_url"):
        if key in context:
            context[key] = site + context[key]
    return context


def _date(value: datetime | None) -> str:
    # strftime, not Django's dateformat ("Y-m-d H:i"): the same text for a tenth of the time.
    return localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def report_context(report: Report) -> dict:
    """The safe view of a report, in the active language."""
    site, point = settings.CITYPIN_SITE_URL, report.location
    lang = "en" if _active_is_english() else "vi"
    routing_text = (report.routing or {}).get("text") or {}
    return {
        "public_id": report.public_id,
        "category": report.category.name,
        # Not get_status_display(): it hashes every choice's lazy label (a translation each) per call.
        "status": str(Report.Status(report.status).label),
        "address": report.address,
        "description": report.public_description,
        "department": report.department.name if report.department_id else "",
        "url": f"{site}/r/{report.public_id}/",
        "console_url": f"{site}/console/r/{report.public_id}/",
        "acknowledge_by": _date(report.acknowledge_due_at),
        "target_resolve_hours": report.category.target_resolve_hours,
        "latitude": f"{point.y:.6f}" if point else "",
        "longitude": f"{point.x:.6f}" if point else "",
        "why_this_department": routing_text.get(lang) or routing_text.get("vi") or "",
        "supporter_count": report.supporter_count,
    }


def _active_is_english() -> bool:
    return (get_language() or "vi").startswith("en")


def _plain(value: object) -> object:
    if isinstance(value, Department):
        return {"name": value.name}
    if isinstance(value, Report):
        return report_context(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def render(event: str, language: str, values: dict, template: MessageTemplate | None = None,
           *, use_stored: bool = True, subject: bool = True) -> Rendered:
    """Subject and text of `event` in `language`. `values` may hold the report and department
    as models: they become their safe views here, in the language. `template` previews an
    unsaved row; otherwise the stored row for (event, language) is used when there is one.
    Without `subject`, only the text is rendered (the subject is "")."""
    with override(language):
        context = {"site_url": settings.CITYPIN_SITE_URL, **{k: _plain(v) for k, v in values.items()}}
        if template is None and use_stored:
            template = MessageTemplate.objects.filter(event=event, language=language).first()
        if template is not None:
            try:
                return Rendered(one_line(_render_source(template.subject, context)) if subject else "",
                                _render_source(template.body, context))
            except Exception:  # a mail never rolls back its cause: the file template says it instead
                if template.pk is None:
                    raise
                log.exception("mail template %s (%s) failed; using the file template", event, language)
        name = FILE_TEMPLATE.get(event, event)
        return Rendered(one_line(render_to_string(f"incidents/email/{name}_subject.txt", context)) if subject else "",
                        render_to_string(f"incidents/email/{name}_body.txt", context))


def _render_source(source: str, context: dict) -> str:
    return TEXT_ENGINE.from_string(source).render(Context(context, autoescape=False))


# -- checking a template before it is saved ---------------------------------------------------

def check_template(event: str, subject: str, body: str) -> dict[str, str]:
    """Problems of a template, by field ("subject", "body"); empty when it is fine. Each field
    is parsed, its variables are compared with the event's, and it is rendered once against the
    sample in both languages (a filter given a wrong argument fails only then)."""
    errors: dict[str, str] = {}
    for field, source in (("subject", subject), ("body", body)):
        problem = _check_source(event, source)
        if problem:
            errors[field] = problem
    return errors


def _check_source(event: str, source: str) -> str:
    try:
        template = TEXT_ENGINE.from_string(source)
    except TemplateSyntaxError as error:
        return _("Template syntax error: %(error)s") % {"error": str(error)[:300]}
    nodes = template.nodelist.get_nodes_by_type(Node)
    forbidden = sorted({type(node).__name__.removesuffix("Node").lower() for node in nodes
                        if isinstance(node, FORBIDDEN_NODES)})
    if forbidden:
        return _("Tags that read other templates are not allowed here: %(tags)s") % {"tags": ", ".join(forbidden)}
    unknown = _unknown_variables(event, nodes)
    if unknown:
        allowed = ", ".join(_allowed_names(event))
        return _("Unknown variable: %(names)s. This event's variables: %(allowed)s.") % {
            "names": ", ".join(sorted(unknown)), "allowed": allowed}
    for language, _name in settings.LANGUAGES:
        with override(language):
            try:
                _render_source(source, sample_context(event, language))
            except Exception as error:  # noqa: BLE001 - any failure of the admin's template, reported on the field
                return _("This template fails when it is used: %(error)s") % {"error": str(error)[:300]}
    return ""


def _allowed_names(event: str) -> list[str]:
    names = ["site_url"]
    for key, value in VARIABLES[event].items():
        names += [f"{key}.{sub}" for sub in value] if isinstance(value, dict) else [key]
    return names


def _unknown_variables(event: str, nodes: list[Node]) -> set[str]:
    bound = {"forloop", "LANGUAGE_CODE"}
    paths: list[str] = []
    for node in nodes:
        if isinstance(node, ForNode):
            bound.update(node.loopvars)
        elif isinstance(node, WithNode | BlockTranslateNode):
            bound.update(node.extra_context)
        if isinstance(node, BlockTranslateNode):
            bound.update(filter(None, [node.countervar, node.asvar]))
            for token in [*node.singular, *(node.plural or [])]:
                if token.token_type == TokenType.VAR:
                    paths.append(token.contents.strip())
        elif isinstance(node, TranslateNode | GetCurrentLanguageNode):
            bound.update(filter(None, [getattr(node, "asvar", None), getattr(node, "variable", None)]))
        for value in vars(node).values():
            paths += _lookups(value, depth=0)
    allowed = VARIABLES[event]
    unknown = set()
    for path in paths:
        root, *rest = path.split(".")
        if root in bound or root == "site_url" and not rest:
            continue
        if root not in allowed:
            unknown.add(path)
        elif rest and (not isinstance(allowed[root], dict) or rest[0] not in allowed[root] or len(rest) > 1):
            unknown.add(path)
        elif not rest and isinstance(allowed[root], dict):
            unknown.add(path)
    return unknown


def _lookups(value: object, depth: int) -> list[str]:
    """Variable paths inside a tag's arguments (filter expressions, `if` conditions, `for`
    sequences), found by walking its attributes a few levels deep."""
    if depth > 5 or isinstance(value, Node | str | int | float | bool | type(None)):
        return []
    if isinstance(value, FilterExpression):
        found = _lookups(value.var, depth + 1)
        for _func, args in value.filters:
            for _is_lookup, arg in args:
                found += _lookups(arg, depth + 1)
        return found
    if isinstance(value, Variable):
        return [value.var] if value.lookups is not None else []
    if isinstance(value, dict):
        return [path for item in value.values() for path in _lookups(item, depth + 1)]
    if isinstance(value, list | tuple):
        return [path for item in value for path in _lookups(item, depth + 1)]
    if hasattr(value, "__dict__") and not callable(value):
        return [path for item in vars(value).values() for path in _lookups(item, depth + 1)]
    return []


def preview(event: str, language: str, subject: str, body: str, report: Report | None = None) -> Rendered:
    """An unsaved template rendered against a chosen report (the sample when none)."""
    values = dict(sample_context(event, language))
    if report is not None:
        values["report"] = report
        if "department" in values and report.department_id:
            values["department"] = report.department
    return render(event, language, values, MessageTemplate(event=event, language=language, subject=subject, body=body))

