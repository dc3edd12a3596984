"""Vector tiles: /tiles/<layer>/<z>/<x>/<y>.mvt, a TileJSON document per layer at
/tiles/<layer>.json (also /tiles/<layer>/tilejson.json), the list of layers at /tiles/, and
OGC API – Tiles' tilesets at /tiles/<layer>/tiles."""

from django.urls import path

from incidents.tiles import tilesets, views

app_name = "tiles"
urlpatterns = [
    path("", views.index, name="index"),
    path("<str:layer>.json", views.tilejson, name="tilejson"),
    path("<str:layer>/tilejson.json", views.tilejson),
    path("<str:layer>/<str:z>/<str:x>/<str:y>.mvt", views.tile, name="tile"),
    # OGC API – Tiles: the tilesets of a layer, the one tileset, its tiles (z/row/col)
    path("<str:layer>/tiles", tilesets.tileset_list, name="tilesets"),
    path("<str:layer>/tiles/<str:tms>", tilesets.tileset, name="tileset"),
    path("<str:layer>/tiles/<str:tms>/<str:z>/<str:row>/<str:col>", tilesets.ogc_tile, name="ogc-tile"),
]
