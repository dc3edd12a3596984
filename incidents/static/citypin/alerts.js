/* The area alerts page (incidents/citizen/alerts.py): a circle around a tapped point, or an area
   drawn with Leaflet.draw, written into the form's fields (lat, lon, radius_m; area as a GeoJSON
   Polygon in lon/lat). The map only helps: the fields are the form, and the server checks them. */
(function () {
  "use strict";

  function alertsMap(map) {
    var U = window.Citypin.util;
    var cfg = JSON.parse(document.getElementById("citypin-config").textContent);
    U.localizeMap(map);
    U.wardOutlines(map);
    var form = document.querySelector("form.alerts");
    var lat = form.elements.lat, lon = form.elements.lon, radius = form.elements.radius_m, area = form.elements.area;
    var status = document.getElementById("map-status");
    var hint = document.getElementById("map-hint");
    var clear = document.getElementById("clear-area");
    var toolbar = map.getContainer().querySelector(".leaflet-draw");
    var circle = null, centre = null, shape = null;

    function kind() {
      var checked = form.querySelector("input[name=kind]:checked");
      return checked ? checked.value : "ward";
    }

    function place(layer, on) {
      if (!layer) return;
      if (on) layer.addTo(map); else map.removeLayer(layer);
    }

    function show() {
      var k = kind();
      form.querySelectorAll(".for-kind").forEach(function (node) {
        node.hidden = node.dataset.kind.split(" ").indexOf(k) < 0;
      });
      hint.textContent = hint.dataset[k] || "";
      if (toolbar) toolbar.style.display = k === "drawn" ? "" : "none";
      clear.hidden = k !== "drawn" || !shape;
      place(circle, k === "circle");
      place(centre, k === "circle");
      place(shape, k === "drawn");
      map.invalidateSize();
    }

    function drawCircle() {
      var la = parseFloat(lat.value), lo = parseFloat(lon.value), r = parseFloat(radius.value);
      if (!isFinite(la) || !isFinite(lo)) return false;
      if (!isFinite(r) || r <= 0) r = cfg.radius_min;
      r = Math.min(r, cfg.radius_max);
      if (!circle) {
        circle = L.circle([la, lo], {radius: r, color: "#1f618d", weight: 2, fillOpacity: 0.12, interactive: false});
        centre = L.circleMarker([la, lo], {radius: 6, color: "#fff", weight: 2, fillColor: "#1f618d", fillOpacity: 1,
                                           interactive: false});
        if (kind() === "circle") { circle.addTo(map); centre.addTo(map); }
      } else {
        circle.setLatLng([la, lo]).setRadius(r);
        centre.setLatLng([la, lo]);
      }
      return true;
    }

    map.on("click", function (e) {
      if (kind() !== "circle") return;
      lat.value = e.latlng.lat.toFixed(6);
      lon.value = e.latlng.lng.toFixed(6);
      drawCircle();
      status.textContent = cfg.text.circle_set;
    });
    [lat, lon, radius].forEach(function (input) { input.addEventListener("input", drawCircle); });

    map.on("draw:created", function (e) {
      if (shape) map.removeLayer(shape);
      shape = e.layer.setStyle({color: "#1f618d", weight: 2, fillOpacity: 0.12}).addTo(map);
      area.value = JSON.stringify(e.layer.toGeoJSON().geometry);
      status.textContent = cfg.text.drawn;
      clear.hidden = false;
    });
    clear.addEventListener("click", function () {
      if (shape) map.removeLayer(shape);
      shape = null;
      area.value = "";
      status.textContent = cfg.text.cleared;
      clear.hidden = true;
    });

    // After a refused send, the page shows again what was chosen.
    if (area.value) {
      try {
        shape = L.geoJSON(JSON.parse(area.value), {style: {color: "#1f618d", weight: 2, fillOpacity: 0.12}});
        map.fitBounds(shape.getBounds());
      } catch (err) { shape = null; }
    }
    if (drawCircle() && kind() === "circle") map.fitBounds(circle.getBounds());
    form.querySelectorAll("input[name=kind]").forEach(function (r) { r.addEventListener("change", show); });
    show();
    window.citypinMap = map;
  }

  window.Citypin.alertsMap = alertsMap;
})();
