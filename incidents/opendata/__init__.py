"""The dataset page /open-data/ and the bulk exports (CSV, GeoJSON, GeoPackage, daily snapshot)."""
