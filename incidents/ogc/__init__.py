"""OGC API – Features at /ogc/: the public reports, incidents, hotspots and areas as collections."""
