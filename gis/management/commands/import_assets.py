from django.core.management.base import BaseCommand, CommandError

from gis.cli import layer, pairs
from gis.importers import ImportFailed, import_assets


class Command(BaseCommand):
    help = "Import or update assets (roads, drains, lamp posts…) into an asset layer from any GDAL format."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--layer-code", required=True, help="asset layer, e.g. roads (created if new)")
        parser.add_argument("--layer-name-vi", default="")
        parser.add_argument("--layer-name-en", default="")
        parser.add_argument("--code-field", required=True, help="@fid: the feature id in the file")
        parser.add_argument("--class-field", required=True)
        parser.add_argument("--name-field")
        parser.add_argument("--class-map", action="append", default=[], metavar="SOURCE=CLASS",
                            help='rename a source class, e.g. "Quốc Gia=national" (repeatable)')
        parser.add_argument("--skip", action="append", default=[], metavar="FIELD=VALUE",
                            help="leave out features whose FIELD equals VALUE (repeatable)")
        parser.add_argument("--layer", default=0, help="layer index or name in the file (default: the first)")

    def handle(self, *args, **o):
        try:
            result = import_assets(o["path"], o["layer_code"], o["code_field"], o["class_field"], o["name_field"],
                                   pairs(o["class_map"], "--class-map"), pairs(o["skip"], "--skip"),
                                   o["layer_name_vi"], o["layer_name_en"], layer(o["layer"]))
        except ImportFailed as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(result.summary("assets"))
