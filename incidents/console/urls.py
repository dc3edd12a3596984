from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from incidents.console import dashboard, views
from incidents.console.auth import LockoutAuthenticationForm

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="console/login.html",
                                                authentication_form=LockoutAuthenticationForm,
                                                redirect_authenticated_user=True), name="console-login"),
    path("logout/", auth_views.LogoutView.as_view(next_page=reverse_lazy("console-login")), name="console-logout"),
    path("password/", auth_views.PasswordChangeView.as_view(template_name="console/password.html",
                                                            success_url=reverse_lazy("console")),
         name="console-password"),
    path("", views.index, name="console"),
    path("points.geojson", views.points, name="console-points"),
    path("cells.geojson", views.cells, name="console-cells"),
    path("reports.csv", views.export, name="console-export"),
    path("bulk/", views.bulk, name="console-bulk"),
    path("views/", views.save_view, name="console-save-view"),
    path("views/<int:view_id>/delete/", views.delete_view, name="console-delete-view"),
    path("r/<public_id:public_id>/", views.detail, name="console-report"),
    path("r/<public_id:public_id>/status/", views.change_status, name="console-status"),
    path("r/<public_id:public_id>/acknowledge/", views.acknowledge, name="console-acknowledge"),
    path("r/<public_id:public_id>/assign/", views.assign, name="console-assign"),
    path("r/<public_id:public_id>/priority/", views.priority, name="console-priority"),
    path("r/<public_id:public_id>/reroute/", views.reroute, name="console-reroute"),
    path("r/<public_id:public_id>/reply/", views.reply, name="console-reply"),
    path("r/<public_id:public_id>/note/", views.note, name="console-note"),
    path("r/<public_id:public_id>/split/", views.split, name="console-split"),
    path("r/<public_id:public_id>/merge/", views.merge, name="console-merge"),
    path("r/<public_id:public_id>/photos/<uuid:uuid>/", views.photo_visibility, name="console-photo"),
    path("api/reports/<public_id:public_id>/", views.report_json, name="console-api-report"),
    path("templates/", views.templates, name="console-templates"),
    path("templates/<int:template_id>/", views.templates, name="console-template"),
    path("dashboard/", dashboard.dashboard, name="console-dashboard"),
    path("dashboard.csv", dashboard.dashboard_csv, name="console-dashboard-csv"),
]
