from django.urls import path

from incidents.citizen import alerts, layers, offline, unsubscribe, views

urlpatterns = [
    path("", views.public_map, name="map"),
    path("report/", views.report_create, name="report"),
    path("r/<public_id:public_id>/", views.track, name="track"),
    path("r/<public_id:public_id>/support/", views.support, name="support"),
    path("r/<public_id:public_id>/reopen/", views.reopen, name="reopen"),
    path("map/wards-<int:version>-<int:zoom>.geojson", layers.ward_layer, name="ward-layer"),
    path("sw.js", offline.service_worker, name="service-worker"),
    path("manifest.webmanifest", offline.manifest, name="manifest"),
    path("offline/", offline.offline, name="offline"),
    path("photos/<uuid:uuid>/", views.photo, name="photo"),
    path("photos/<uuid:uuid>/thumbnail/", views.photo, {"thumbnail": True}, name="photo-thumbnail"),
    path("alerts/", alerts.subscribe, name="alerts"),
    path("alerts/sent/", alerts.sent, name="alert-sent"),
    path("alerts/confirm/<str:token>/", alerts.confirm, name="alert-confirm"),
    path("alerts/unsubscribe/<str:token>/", alerts.unsubscribe, name="alert-unsubscribe"),
    path("unsubscribe/<str:token>/", unsubscribe.unsubscribe_page, name="unsubscribe"),
]
