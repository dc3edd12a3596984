from django.urls import path

from incidents.feeds import views

app_name = "feeds"
urlpatterns = [
    path("wards/<str:code>.atom", views.ward_feed, name="ward"),
    path("categories/<str:code>.atom", views.category_feed, name="category"),
    path("areas/<slug:slug>.atom", views.area_feed, name="area"),
    path("reports/<public_id:public_id>.atom", views.report_feed, name="report"),
]
