from django.apps import AppConfig


class GeoConfig(AppConfig):
    """Spatial reference data (areas, asset layers) and spatial algorithms.

    The label is "geo" because django.contrib.gis already owns "gis". This app knows nothing
    of reports: `incidents` depends on it, never the reverse.
    """

    name = "gis"
    label = "geo"
    verbose_name = "Geography"
    default_auto_field = "django.db.models.BigAutoField"
