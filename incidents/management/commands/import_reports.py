from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from gis.cli import pairs
from incidents.importers import Columns, import_reports


class Command(BaseCommand):
    help = ("Import reports from a CSV export of another system; each row is validated, routed and grouped "
            "into incidents as of its own date. Contact data is not imported.")

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--category-map", action="append", default=[], metavar="THEIRS=OURS", required=True,
                            help='e.g. "Abandoned Vehicle=abandoned-vehicle" (repeatable); unmapped rows are skipped')
        parser.add_argument("--status-map", action="append", default=[], metavar="THEIRS=OURS",
                            help='e.g. "Closed=closed" (repeatable); unmapped statuses become new')
        parser.add_argument("--timezone", default="UTC", help="of times without an offset, e.g. Asia/Ho_Chi_Minh")
        for name, default in vars(Columns()).items():
            parser.add_argument(f"--{name.replace('_', '-')}-column", default=default, dest=f"column_{name}")

    def handle(self, *args, **o):
        columns = Columns(**{name: o[f"column_{name}"] for name in vars(Columns())})
        try:
            result = import_reports(o["path"], pairs(o["category_map"], "--category-map"),
                                    pairs(o["status_map"], "--status-map"), columns, o["timezone"])
        except (ValidationError, OSError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(result.summary())
