"""REST API v1: thin views that parse, call the read model (incidents.read) or a service, and respond."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from gis.places import places_at, search_places
from incidents.api import schema as doc
from incidents.api.serializers import CategorySerializer, DepartmentSerializer, ReportIntakeSerializer
from incidents.http.browser import browser_id
from incidents.http.idempotency import HEADER, idempotent
from incidents.http.ratelimit import ReportSubmitThrottle, SupportThrottle
from incidents.intake import submit_report
from incidents.models import Category, Department, Report
from incidents.read.cells import report_cells
from incidents.read.geojson import created_report_feature, feature_collection
from incidents.read.incidents import incident_feature, incident_page
from incidents.read.layers import area_features, hotspot_features
from incidents.read.reports import Page, nearby_open_reports, report_feature, report_page
from incidents.workflow import support_report

GEOJSON = "application/geo+json"


def query(request) -> dict[str, str]:
    """The query parameters, refusing NUL characters (PostgreSQL cannot take them)."""
    params = request.query_params.dict()
    bad = {name: ["Contains a NUL character."] for name, value in params.items() if "\x00" in value}
    if bad:
        raise ValidationError(bad)
    return params


def geojson_response(body: str, status_code: int = 200) -> HttpResponse:
    return HttpResponse(body, content_type=GEOJSON, status=status_code)


def error_response(exc: ValidationError) -> Response:
    return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)


class ReportCollection(APIView):
    throttle_classes = [ReportSubmitThrottle]

    @extend_schema(operation_id="v1_reports_list", parameters=[*doc.REPORT_PAGE, doc.LANGUAGE],
                   responses=doc.geojson(200, doc.collection(doc.REPORT_FEATURE, paged=True),
                                         "Public reports, newest first; `next` links to the next page."))
    def get(self, request):
        try:
            page = report_page(query(request), get_language())
        except ValidationError as exc:
            return error_response(exc)
        return page_response(request, page)

    @extend_schema(
        description="Report a problem. Give a `location` (a GeoJSON Point) or, without one, an `address`: a report "
                    "by address only goes to the operations center, which places it.",
        request=ReportIntakeSerializer, parameters=[doc.LANGUAGE, doc.IDEMPOTENCY_KEY], examples=doc.INTAKE_EXAMPLES,
        responses={**doc.geojson(201, doc.REPORT_FEATURE, "The report as the public sees it; the Location header "
                                                          "is its URL."),
                   400: doc.INTAKE_REFUSED, 413: doc.TOO_LARGE, 422: doc.IDEMPOTENCY_REUSED, 429: doc.THROTTLED},
    )
    def post(self, request):
        return idempotent(request._request, "api:reports", lambda: self._create(request),
                          refuse=lambda message: JsonResponse({HEADER: [message]}, status=400))

    def _create(self, request) -> HttpResponse:
        try:
            data = request.data
        except RequestDataTooBig:
            limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1024 / 1024
            return Response({"body": [f"The request body is larger than {limit_mb:g} MB."]}, status=400)
        if not isinstance(data, dict):
            return Response({"body": ["Send a JSON object."]}, status=400)
        serializer = ReportIntakeSerializer(data=data)
        if not serializer.is_valid():
            return Response(serializer.errors, status=400)
        try:
            report = submit_report(serializer.to_draft(Report.Source.API, request.META.get("REMOTE_ADDR")))
        except ValidationError as exc:
            return error_response(exc)
        response = geojson_response(created_report_feature(report.pk, get_language()), status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"/api/v1/reports/{report.public_id}/")
        return response


class ReportAggregates(APIView):
    @extend_schema(parameters=[*doc.AGGREGATE, doc.LANGUAGE],
                   responses=doc.geojson(200, doc.collection(doc.CELL_FEATURE), "Counts of reports on a grid "
                                                                                "(at most 2000 cells, fullest first)."))
    def get(self, request):
        try:
            features = report_cells(query(request), get_language())
        except ValidationError as exc:
            return error_response(exc)
        return geojson_response(feature_collection(features))


class NearbyReports(APIView):
    """Open reports that may be the same problem: same category, within its duplicate radius
    and time window, nearest first."""

    @extend_schema(parameters=[*doc.NEARBY, doc.LANGUAGE],
                   responses=doc.geojson(200, doc.collection(doc.NEARBY_FEATURE), "At most 10, nearest first."))
    def get(self, request):
        try:
            params = query(request)
        except ValidationError as exc:
            return error_response(exc)
        errors, values = {}, {}
        for name, low, high in (("lon", -180, 180), ("lat", -90, 90)):
            try:
                values[name] = float(params.get(name, ""))
                if not low <= values[name] <= high:
                    raise ValueError
            except ValueError:
                errors[name] = [f"A number from {low} to {high}."]
        category = params.get("category", "")
        if not Category.objects.filter(code=category, active=True).exists():
            errors["category"] = [f"Unknown category \"{category[:40]}\"."]
        if errors:
            return Response(errors, status=400)
        features = nearby_open_reports(category, values["lon"], values["lat"], get_language())
        return Response({"type": "FeatureCollection", "features": features}, content_type=GEOJSON)


class ReportSupporters(APIView):
    """"Me too": one support per e-mail address and per browser; the e-mail (optional) follows updates."""

    throttle_classes = [SupportThrottle]

    @extend_schema(request=doc.SUPPORT_REQUEST, parameters=[doc.BROWSER_COOKIE, doc.LANGUAGE],
                   responses={201: OpenApiResponse(doc.SUPPORT_RESPONSE, "Supported; the report's new count."),
                              400: doc.BAD_REQUEST, 404: doc.NOT_FOUND, 413: doc.TOO_LARGE, 429: doc.THROTTLED,
                              503: doc.UNAVAILABLE})
    def post(self, request, public_id: str):
        report = Report.objects.filter(public_id=public_id).first()
        if report is None:
            return Response({"public_id": [f"No report {public_id[:40]}."]}, status=404)
        data = request.data if isinstance(request.data, dict) else {}
        email = data.get("email", "")
        if not isinstance(email, str):
            return Response({"email": ["Must be text."]}, status=400)
        browser = browser_id(request, create=False)
        if not browser:  # the id comes with our pages: a request from elsewhere has none
            return Response({"report": [_("Open the report's page first (your browser must accept cookies).")]},
                            status=400)
        try:
            support_report(report, email=email, browser=browser, ip=request.META.get("REMOTE_ADDR"))
        except ValidationError as exc:
            return error_response(exc)
        report.refresh_from_db(fields=["supporter_count"])
        return Response({"supporter_count": report.supporter_count}, status=201)


def page_response(request, page: Page) -> HttpResponse:
    extra = ""
    if page.next_cursor:
        query = request.query_params.copy()
        query["cursor"] = page.next_cursor
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        extra = ',"next":' + JsonResponse(next_url, safe=False).content.decode()
    return geojson_response(feature_collection(page.features, extra))


class IncidentCollection(APIView):
    @extend_schema(operation_id="v1_incidents_list", parameters=[*doc.INCIDENT_PAGE, doc.LANGUAGE],
                   responses=doc.geojson(200, doc.collection(doc.INCIDENT_FEATURE, paged=True),
                                         "Public incidents, newest first; dates filter on their first report."))
    def get(self, request):
        try:
            page = incident_page(query(request), get_language())
        except ValidationError as exc:
            return error_response(exc)
        return page_response(request, page)


class IncidentDetail(APIView):
    @extend_schema(parameters=[doc.LANGUAGE], responses=doc.geojson(200, doc.INCIDENT_FEATURE, "The incident."))
    def get(self, request, incident_id: int):
        feature = incident_feature(incident_id, get_language())
        if feature is None:
            return Response({"id": [f"No incident {incident_id}."]}, status=404)
        return geojson_response(feature)


class HotspotCollection(APIView):
    @extend_schema(parameters=[*doc.HOTSPOT_FILTERS, doc.LANGUAGE],
                   responses=doc.geojson(200, doc.collection(doc.HOTSPOT_FEATURE), "Hotspots, largest first "
                                                                                   "(at most 2000)."))
    def get(self, request):
        try:
            features = hotspot_features(query(request), get_language())
        except ValidationError as exc:
            return error_response(exc)
        return geojson_response(feature_collection(features))


class ReportDetail(APIView):
    @extend_schema(parameters=[doc.LANGUAGE], responses=doc.geojson(200, doc.REPORT_FEATURE, "The report."))
    def get(self, request, public_id: str):
        feature = report_feature(public_id, get_language())
        if feature is None:
            return Response({"public_id": [f"No report {public_id[:40]}."]}, status=404)
        return geojson_response(feature)


@extend_schema_view(get=extend_schema(responses={200: CategorySerializer(many=True), 404: doc.NOT_FOUND,
                                                 503: doc.UNAVAILABLE}))
class CategoryList(generics.ListAPIView):
    serializer_class = CategorySerializer
    queryset = Category.objects.filter(active=True).select_related("group").prefetch_related("attributes")


@extend_schema_view(get=extend_schema(responses={200: DepartmentSerializer(many=True), 404: doc.NOT_FOUND,
                                                 503: doc.UNAVAILABLE}))
class DepartmentList(generics.ListAPIView):
    serializer_class = DepartmentSerializer
    queryset = Department.objects.filter(active=True)


class AreaCollection(APIView):
    @extend_schema(parameters=doc.AREA_FILTERS,
                   responses=doc.geojson(200, doc.collection(doc.AREA_FEATURE), "Areas by kind and code."))
    def get(self, request):
        try:
            features = area_features(query(request))
        except ValidationError as exc:
            return error_response(exc)
        response = geojson_response(feature_collection(features))
        response["Cache-Control"] = "public, max-age=3600"  # boundaries change rarely
        return response


class PlaceCollection(APIView):
    @extend_schema(parameters=[*doc.PLACE_QUERY, doc.LANGUAGE],
                   responses=doc.geojson(200, doc.collection(doc.PLACE_FEATURE),
                                         "Places whose name matches q, best first (at most 10); or, for lon and "
                                         "lat, the nearest named road within 150 m and the ward there."))
    def get(self, request):
        try:
            params = query(request)
            lang = get_language()
            q = params.get("q", "").strip()
            if q or "q" in params:
                features = search_places(parse_place_name(q), lang)
            elif "lon" in params or "lat" in params:
                features = places_at(*parse_lon_lat(params), lang)
            else:
                raise ValidationError({"q": [_("Give q, a name to search for, or lon and lat.")]})
        except ValidationError as exc:
            return error_response(exc)
        return geojson_response(feature_collection(features))


def parse_place_name(q: str) -> str:
    if len(q) < 2:
        raise ValidationError({"q": [_("Give at least 2 characters.")]})
    if len(q) > 100:
        raise ValidationError({"q": [_("At most 100 characters.")]})
    return q


def parse_lon_lat(params: dict[str, str]) -> tuple[float, float]:
    errors, values = {}, {}
    for name, limit in (("lon", 180), ("lat", 90)):
        try:
            values[name] = float(params.get(name, ""))
            if not -limit <= values[name] <= limit:
                raise ValueError
        except ValueError:
            errors[name] = [_("A number of degrees from -%(limit)s to %(limit)s.") % {"limit": limit}]
    if errors:
        raise ValidationError(errors)
    return values["lon"], values["lat"]


def not_found(request, exception=None) -> HttpResponse:
    """Django's 404 for a path that matches no route: under /api/ (a public id with a space in
    it, say) a field error like every other API error; elsewhere the site's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"path": [f"Nothing at {request.path[:100]}."]}, status=404)
    return page_not_found(request, exception)


def healthz(request):
    """Liveness plus a database round trip (PostGIS included)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT postgis_lib_version()")
            postgis = cursor.fetchone()[0]
    except Exception as exc:  # any database failure means "not healthy"
        return JsonResponse({"status": "error", "database": type(exc).__name__}, status=503)
    return JsonResponse({"status": "ok", "database": "ok", "postgis": postgis})
