"""Mapbox vector tiles at /tiles/<layer>/<z>/<x>/<y>.mvt and their TileJSON."""
