from django.contrib.gis import admin

from gis.models import Area, Asset, AssetLayer
from gis.widgets import OfflineMapWidget


class MapAdmin(admin.GISModelAdmin):
    gis_widget = OfflineMapWidget


@admin.register(Area)
class AreaAdmin(MapAdmin):
    list_display = ["code", "name_vi", "name_en", "kind", "parent", "area_km2"]
    list_filter = ["kind"]
    search_fields = ["code", "name_vi", "name_en"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["area_m2"]

    @admin.display(description="km²", ordering="area_m2")
    def area_km2(self, area: Area) -> str:
        return f"{area.area_m2 / 1e6:,.2f}"


@admin.register(AssetLayer)
class AssetLayerAdmin(admin.ModelAdmin):
    list_display = ["code", "name_vi", "name_en"]


@admin.register(Asset)
class AssetAdmin(MapAdmin):
    list_display = ["code", "name", "asset_class", "layer"]
    list_filter = ["layer", "asset_class"]
    search_fields = ["code", "name"]
