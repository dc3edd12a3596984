"""The domain's models, split along its seams: configuration (who handles what), reports
(what citizens sent and what happened to it), and incidents (what the city acts on)."""

from incidents.models.alerts import AlertDue, AreaAlert, DrawnArea
from incidents.models.config import (
    ApiKey,
    CalendarDay,
    Category,
    CategoryAttribute,
    CategoryGroup,
    Department,
    RoutingRule,
    StaffMembership,
)
from incidents.models.forwarding import Open311Endpoint, Open311Forward, Open311Service
from incidents.models.idempotency import IdempotencyRecord
from incidents.models.incidents import Hotspot, HotspotRun, Incident
from incidents.models.messaging import (
    DigestRun,
    GatheredNotice,
    MessageTemplate,
    Notice,
    NotificationRule,
    StaffNoticeWindow,
    Unsubscription,
)
from incidents.models.ratelimit import RateCount
from incidents.models.reports import (  # noqa: F401 (migrations)
    ClientSubmission,
    OutboxMessage,
    Photo,
    Report,
    ReportEvent,
    ResponseTemplate,
    SavedView,
    Supporter,
    WebhookEndpoint,
    photo_path,
)

__all__ = [
    "AlertDue", "ApiKey", "AreaAlert", "DrawnArea", "CalendarDay", "Category", "ClientSubmission", "CategoryAttribute", "CategoryGroup", "Department", "Hotspot", "HotspotRun", "IdempotencyRecord", "Incident", "OutboxMessage",
    "Photo", "Report", "ReportEvent", "ResponseTemplate", "RoutingRule", "SavedView", "StaffMembership", "Supporter",
    "WebhookEndpoint", "DigestRun", "GatheredNotice", "MessageTemplate", "Notice", "NotificationRule", "StaffNoticeWindow",
    "Unsubscription",
    "Open311Endpoint", "Open311Forward", "Open311Service", "RateCount",
]
