from django.core.management.base import BaseCommand, CommandError

from gis.cli import layer
from gis.importers import ImportFailed, import_areas


class Command(BaseCommand):
    help = "Import or update areas (wards, provinces, service areas) from GeoJSON, Shapefile or any GDAL format."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--kind", required=True, help="province, ward, service_area or other")
        parser.add_argument("--code-field", required=True, help="@fid: the feature id in the file")
        parser.add_argument("--name-field", required=True, help="Vietnamese (or local) name")
        parser.add_argument("--name-en-field")
        parser.add_argument("--parent-field", help="field holding the parent area's code")
        parser.add_argument("--parent-code", help="one parent area code for every feature")
        parser.add_argument("--layer", default=0, help="layer index or name (default: the first)")

    def handle(self, *args, **o):
        try:
            result = import_areas(o["path"], o["kind"], o["code_field"], o["name_field"], o["name_en_field"],
                                  o["parent_field"], o["parent_code"], layer(o["layer"]))
        except ImportFailed as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(result.summary("areas"))
