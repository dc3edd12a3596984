from django.core.management.base import BaseCommand

from incidents.read.snapshot import make_snapshot, snapshot_dir


class Command(BaseCommand):
    help = "Write today's open-data snapshot (GeoPackage and gzipped CSV, each with a SHA-256 file) now."

    def handle(self, *args, **options):
        files = make_snapshot()
        self.stdout.write(f"{len(files)} files in {snapshot_dir()}: " + ", ".join(f"{f.name} ({f.size:,} bytes)"
                                                                                 for f in files))
