from django.urls import path, re_path

from incidents.opendata import views

app_name = "opendata"
urlpatterns = [
    path("", views.dataset, name="dataset"),
    path("reports.csv", views.reports_csv, name="reports-csv"),
    path("reports.geojson", views.reports_geojson, name="reports-geojson"),
    path("reports.gpkg", views.reports_gpkg, name="reports-gpkg"),
    path("catalog.jsonld", views.catalog_jsonld, name="catalog"),
    re_path(r"^snapshots/(?P<name>citypin-reports-[0-9-]{10}\.(?:gpkg|csv\.gz)(?:\.sha256)?)$", views.snapshot,
            name="snapshot"),
]
