"""REST API v1: thin views that parse, call a selector or service, and respond."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors
from ..models import Category, Department, Report
from ..ratelimit import ReportSubmitThrottle, SupportThrottle
from ..services import submit_report
from ..web.browser import browser_id
from ..workflow import support_report
from .geojson import feature_collection
from .serializers import CategorySerializer, DepartmentSerializer, ReportIntakeSerializer

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


REPORT_FILTERS = [
    OpenApiParameter("bbox", str, description="min_lon,min_lat,max_lon,max_lat (WGS-84)"),
    OpenApiParameter("category", str, description="category codes, comma-separated"),
    OpenApiParameter("status", str, description="statuses, comma-separated"),
    OpenApiParameter("department", str, description="department codes, comma-separated"),
    OpenApiParameter("area", str, description="area code: reports inside that area"),
    OpenApiParameter("created_after", str, description="ISO date or date-time"),
    OpenApiParameter("created_before", str, description="ISO date or date-time"),
    OpenApiParameter("limit", int, description=f"page size, 1..{selectors.MAX_PAGE}"),
    OpenApiParameter("cursor", str, description="from the previous page's `next` link"),
]


class ReportCollection(APIView):
    throttle_classes = [ReportSubmitThrottle]

    @extend_schema(parameters=REPORT_FILTERS, responses={200: OpenApiResponse(description="GeoJSON FeatureCollection")})
    def get(self, request):
        try:
            page = selectors.report_page(query(request), get_language())
        except ValidationError as exc:
            return error_response(exc)
        return page_response(request, page)

    @extend_schema(request=ReportIntakeSerializer, responses={201: OpenApiResponse(description="the report as a GeoJSON Feature")})
    def post(self, request):
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
        response = geojson_response(selectors.report_feature(report.public_id, get_language()), status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"/api/v1/reports/{report.public_id}/")
        return response


class ReportAggregates(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("zoom", float, description="map zoom 0..22: the grid is about 64 px"), *REPORT_FILTERS[:7]],
        responses={200: OpenApiResponse(description="GeoJSON FeatureCollection of grid cells with `count` and `open`")},
    )
    def get(self, request):
        try:
            features = selectors.report_aggregates(query(request), get_language())
        except ValidationError as exc:
            return error_response(exc)
        return geojson_response(feature_collection(features))


class NearbyReports(APIView):
    """Open reports that may be the same problem: same category, within its duplicate radius
    and time window, nearest first."""

    @extend_schema(
        parameters=[OpenApiParameter("category", str, required=True), OpenApiParameter("lon", float, required=True),
                    OpenApiParameter("lat", float, required=True)],
        responses={200: OpenApiResponse(description="GeoJSON FeatureCollection with distance_m")},
    )
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
        features = selectors.nearby_open_reports(category, values["lon"], values["lat"], get_language())
        return Response({"type": "FeatureCollection", "features": features}, content_type=GEOJSON)


class ReportSupporters(APIView):
    """"Me too": one support per e-mail address and per browser; the e-mail (optional) follows updates."""

    throttle_classes = [SupportThrottle]

    @extend_schema(request=None, responses={201: OpenApiResponse(description="{supporter_count}")})
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


def page_response(request, page: selectors.Page) -> HttpResponse:
    extra = ""
    if page.next_cursor:
        query = request.query_params.copy()
        query["cursor"] = page.next_cursor
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        extra = ',"next":' + JsonResponse(next_url, safe=False).content.decode()
    return geojson_response(feature_collection(page.features, extra))


class IncidentCollection(APIView):
    @extend_schema(parameters=REPORT_FILTERS, responses={200: OpenApiResponse(description="GeoJSON FeatureCollection")})
    def get(self, request):
        try:
            page = selectors.incident_page(query(request), get_language())
        except ValidationError as exc:
            return error_response(exc)
        return page_response(request, page)


class IncidentDetail(APIView):
    @extend_schema(responses={200: OpenApiResponse(description="GeoJSON Feature with its reports' public ids")})
    def get(self, request, incident_id: int):
        feature = selectors.incident_feature(incident_id, get_language())
        if feature is None:
            return Response({"id": [f"No incident {incident_id}."]}, status=404)
        return geojson_response(feature)


class HotspotCollection(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("category", str, description="category codes, comma-separated"),
                    OpenApiParameter("bbox", str, description="min_lon,min_lat,max_lon,max_lat")],
        responses={200: OpenApiResponse(description="GeoJSON FeatureCollection of hotspot footprints")},
    )
    def get(self, request):
        try:
            features = selectors.hotspot_features(query(request), get_language())
        except ValidationError as exc:
            return error_response(exc)
        return geojson_response(feature_collection(features))


class ReportDetail(APIView):
    @extend_schema(responses={200: OpenApiResponse(description="GeoJSON Feature")})
    def get(self, request, public_id: str):
        feature = selectors.report_feature(public_id, get_language())
        if feature is None:
            return Response({"public_id": [f"No report {public_id[:40]}."]}, status=404)
        return geojson_response(feature)


class CategoryList(generics.ListAPIView):
    serializer_class = CategorySerializer
    queryset = Category.objects.filter(active=True).select_related("group").prefetch_related("attributes")


class DepartmentList(generics.ListAPIView):
    serializer_class = DepartmentSerializer
    queryset = Department.objects.filter(active=True)


class AreaCollection(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, description="province, ward, service_area, other (comma-separated)"),
            OpenApiParameter("parent", str, description="parent area code"),
            OpenApiParameter("zoom", float, description="map zoom 0..22: simplification to about half a pixel"),
            OpenApiParameter("tolerance_m", float, description="simplification tolerance in metres (overrides zoom)"),
            OpenApiParameter("bbox", str, description="min_lon,min_lat,max_lon,max_lat"),
        ],
        responses={200: OpenApiResponse(description="GeoJSON FeatureCollection")},
    )
    def get(self, request):
        try:
            features = selectors.area_features(query(request))
        except ValidationError as exc:
            return error_response(exc)
        response = geojson_response(feature_collection(features))
        response["Cache-Control"] = "public, max-age=3600"  # boundaries change rarely
        return response


def healthz(request):
    """Liveness plus a database round trip (PostGIS included)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT postgis_lib_version()")
            postgis = cursor.fetchone()[0]
    except Exception as exc:  # any database failure means "not healthy"
        return JsonResponse({"status": "error", "database": type(exc).__name__}, status=503)
    return JsonResponse({"status": "ok", "database": "ok", "postgis": postgis})
