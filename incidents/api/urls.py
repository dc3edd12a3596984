from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from incidents.api import views

urlpatterns = [
    path("v1/reports/", views.ReportCollection.as_view(), name="api-reports"),
    path("v1/reports/aggregate/", views.ReportAggregates.as_view(), name="api-report-aggregates"),
    path("v1/reports/nearby/", views.NearbyReports.as_view(), name="api-reports-nearby"),
    path("v1/reports/<public_id:public_id>/", views.ReportDetail.as_view(), name="api-report"),
    path("v1/reports/<public_id:public_id>/supporters/", views.ReportSupporters.as_view(), name="api-report-supporters"),
    path("v1/incidents/", views.IncidentCollection.as_view(), name="api-incidents"),
    path("v1/incidents/<int:incident_id>/", views.IncidentDetail.as_view(), name="api-incident"),
    path("v1/hotspots/", views.HotspotCollection.as_view(), name="api-hotspots"),
    path("v1/categories/", views.CategoryList.as_view(), name="api-categories"),
    path("v1/departments/", views.DepartmentList.as_view(), name="api-departments"),
    path("v1/areas/", views.AreaCollection.as_view(), name="api-areas"),
    path("v1/places/", views.PlaceCollection.as_view(), name="api-places"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file, so the page needs no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
