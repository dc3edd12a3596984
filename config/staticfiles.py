"""The front-end files Citypin serves from node_modules (installed from the npm registry at
set-up, never copied into the repository): only those the pages use, not the whole folder with
its sources, tests and package metadata. Served under static/vendor/."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PREFIX = "vendor"

# Globs relative to node_modules. A file's source map, when the package ships one, comes with
# it (collectstatic's manifest follows sourceMappingURL comments).
VENDOR_FILES = (
    "leaflet/dist/leaflet.js", "leaflet/dist/leaflet.css", "leaflet/dist/images/*.png",
    "leaflet.markercluster/dist/leaflet.markercluster.js", "leaflet.markercluster/dist/MarkerCluster*.css",
    "leaflet.heat/dist/leaflet-heat.js",
    "leaflet-draw/dist/leaflet.draw.js", "leaflet-draw/dist/leaflet.draw.css", "leaflet-draw/dist/images/*",
    "exifr/dist/lite.umd.js",
    "ol/ol.css", "ol/dist/ol.js",
    "swagger-ui-dist/swagger-ui.css", "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui-dist/swagger-ui-standalone-preset.js", "swagger-ui-dist/favicon-32x32.png",
)


def vendor_files(root: Path) -> list[str]:
    """Paths (relative to root, '/'-separated) of the files above that exist, with their maps."""
    found: set[str] = set()
    for pattern in VENDOR_FILES:
        for path in root.glob(pattern):
            if path.is_file():
                found.add(path.relative_to(root).as_posix())
                if path.with_name(path.name + ".map").is_file():
                    found.add(path.relative_to(root).as_posix() + ".map")
    return sorted(found)


class VendorFinder(BaseFinder):
    """A staticfiles finder over the listed node_modules files only."""

    def __init__(self, *args, **kwargs):
        self.root = Path(getattr(settings, "CITYPIN_NODE_MODULES", settings.BASE_DIR / "node_modules"))
        self.storage = FileSystemStorage(location=str(self.root))
        self.storage.prefix = PREFIX
        self.files = set(vendor_files(self.root))

    def find(self, path: str, find_all: bool = False, **kwargs):
        prefix = PREFIX + "/"
        if path.startswith(prefix) and path[len(prefix):] in self.files:
            match = str(self.root / path[len(prefix):])
            return [match] if find_all else match
        return []

    def list(self, ignore_patterns):
        for name in sorted(self.files):
            yield name, self.storage
