"""Open311 GeoReport v2 at /open311/v2/: services from categories, requests through the one
intake and the public projection, JSON and XML."""
