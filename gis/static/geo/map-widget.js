// Starts Django's OpenLayers MapWidget for every geometry field of the page, from the options its
// template wrote as JSON (Django's own template does it in an inline script, which CSP forbids).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".dj_map_wrapper > script[type='application/json']").forEach(function (data) {
    const o = JSON.parse(data.textContent);
    o.base_layer = new ol.layer.Tile({source: new ol.source.XYZ({
      url: o.tile_url, attributions: o.tile_attribution, crossOrigin: "anonymous"})});
    window[o.module] = new MapWidget(o);
  });
});
