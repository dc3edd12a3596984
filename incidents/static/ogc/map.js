// A small Leaflet map of the features on an OGC API HTML page: the GeoJSON and the map settings
// come from the page's JSON blocks (#ogc-features, #ogc-map-config), so no inline script runs.
document.addEventListener("DOMContentLoaded", function () {
  var node = document.getElementById("ogc-map");
  if (!node || !window.L) { return; }
  var config = JSON.parse(document.getElementById("ogc-map-config").textContent);
  var data = JSON.parse(document.getElementById("ogc-features").textContent);
  var map = L.map(node);
  L.tileLayer(config.tiles, { attribution: config.attribution, maxZoom: 19 }).addTo(map);
  var layer = L.geoJSON(data, {
    style: { color: "#0b6e4f", weight: 2, fillOpacity: 0.15 },
    pointToLayer: function (feature, latlng) {
      return L.circleMarker(latlng, { radius: 6, color: "#fff", weight: 1.5, fillColor: "#0b6e4f", fillOpacity: 0.9 });
    },
    onEachFeature: function (feature, item) {
      var label = document.createElement("span");
      label.textContent = String(feature.id);
      item.bindTooltip(label);
    }
  }).addTo(map);
  var bounds = layer.getBounds();
  // No animation: the first view is where the features are (or the city, if there are none).
  if (bounds.isValid()) { map.fitBounds(bounds, { maxZoom: 16, padding: [20, 20], animate: false }); }
  else { map.setView(config.center, config.zoom, { animate: false }); }
  window.ogcMap = map;
});
