"""Vector tiles: /tiles/<layer>/<z>/<x>/<y>.mvt, a TileJSON document per layer at
/tiles/<layer>.json (also /tiles/<layer>/tilejson.json), and the list of layers at /tiles/."""

from django.urls import path

from incidents.tiles import views

app_name = "tiles"
urlpatterns = [
    path("", views.index, name="index"),
    path("<str:layer>.json", views.tilejson, name="tilejson"),
    path("<str:layer>/tilejson.json", views.tilejson),
    path("<str:layer>/<str:z>/<str:x>/<str:y>.mvt", views.tile, name="tile"),
]
