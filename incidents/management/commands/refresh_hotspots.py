from django.core.management.base import BaseCommand

from incidents.hotspots import refresh_hotspots


class Command(BaseCommand):
    help = "Find hotspots (DBSCAN per category over the last 30 days); --full recomputes every category."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true")

    def handle(self, *args, full=False, **options):
        self.stdout.write(refresh_hotspots(full=full).summary())
