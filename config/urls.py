from django.contrib import admin
from django.urls import include, path, register_converter
from django.utils.translation import gettext_lazy as _

from incidents.api.views import healthz
from incidents.http.converters import PublicIdConverter
from incidents.opendata.views import data_json

register_converter(PublicIdConverter, "public_id")  # before the faces' URLs that use it

handler404 = "incidents.api.views.not_found"  # JSON under /api/, the site's page elsewhere
handler500 = "incidents.http.outage.server_error"  # an outage outside a view still answers 503

admin.site.site_header = _("Citypin administration")
admin.site.site_title = "Citypin"
admin.site.index_title = _("Configuration: areas, departments, categories, routing rules")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("incidents.api.urls")),
    path("console/", include("incidents.console.urls")),
    path("open311/", include("incidents.open311.urls")),
    path("ogc/", include("incidents.ogc.urls")),
    path("tiles/", include("incidents.tiles.urls")),
    path("open-data/", include("incidents.opendata.urls")),
    path("feeds/", include("incidents.feeds.urls")),
    path("data.json", data_json, name="data-json"),  # the open-data catalogue where harvesters look for it
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("incidents.citizen.urls")),
]
# MEDIA_ROOT is never served as such: photos go through incidents.citizen.views.photo, which
# checks that staff approved them.
