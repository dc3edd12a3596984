/* The console's map: the reports of the list's filters (in the visible box), polled every
   refresh_seconds; clustered status markers with overdue ones ringed when zoomed in, counts on
   a grid when zoomed out or when there are too many; a heatmap and a hotspot layer to toggle; a lasso (folium's Draw) that selects the reports inside a drawn shape; and
   selection kept in step between map and list. User text is only set with textContent. */
(function () {
  "use strict";
  var U = window.Citypin.util;

  function consoleMap(map) {
    var cfg = JSON.parse(document.getElementById("console-config").textContent);
    U.localizeMap(map);
    U.wardOutlines(map);
    window.citypinMap = map;  // for the browser tests (folium's map variable is no longer global)
    var points = L.markerClusterGroup({maxClusterRadius: 45}).addTo(map);
    var cells = L.layerGroup().addTo(map);  // grid counts are already aggregated: never clustered again
    var heat = L.heatLayer([], {radius: 22, blur: 18, minOpacity: 0.35});
    var hotspots = L.layerGroup();
    var statusLine = document.getElementById("map-status");
    var filters = document.querySelector("form.console-filters");
    var markers = {};       // public id → marker
    var selected = new Set();
    var seq = 0;

    function query() {
      var params = new URLSearchParams(new FormData(filters));
      Array.from(params.keys()).forEach(function (k) { if (!params.get(k)) params.delete(k); });
      var b = map.getBounds();
      params.set("bbox", [Math.max(b.getWest(), -180), Math.max(b.getSouth(), -90),
                          Math.min(b.getEast(), 180), Math.min(b.getNorth(), 90)].map(function (n) { return n.toFixed(6); }).join(","));
      return params.toString();
    }
    function icon(p) {
      var status = U.statusOf(cfg, p.status);
      return L.divIcon({className: "status-pin" + (p.overdue ? " overdue" : "") + (selected.has(p.id) ? " selected" : ""),
                        iconSize: [44, 44], iconAnchor: [22, 22],  // a finger's touch target
                        html: '<span style="background:' + status.colour + '">' + status.symbol + "</span>"});
    }
    function popup(id, p) {
      var box = U.el("div", {"class": "popup"});
      box.appendChild(U.el("strong", {}, id));
      box.appendChild(U.el("div", {}, p.category));
      box.appendChild(U.el("div", {"class": "popup-status"}, U.statusOf(cfg, p.status).label + (p.overdue ? " · " + cfg.text.overdue : "")));
      box.appendChild(U.el("a", {href: cfg.detail_url + encodeURIComponent(id) + "/"}, cfg.text.open + " →"));
      return box;
    }
    function show(data) {
      points.clearLayers(); cells.clearLayers(); markers = {};
      var heatPoints = [];
      data.features.forEach(function (f) {
        var c = f.geometry.coordinates, p = f.properties;
        p.id = f.id;
        var marker = L.marker([c[1], c[0]], {icon: icon(p), title: f.id + " · " + p.category, keyboard: true});
        marker.feature = f;
        marker.bindPopup(popup(f.id, p));
        marker.on("click", function () { highlightRow(f.id, true); });
        markers[f.id] = marker;
        points.addLayer(marker);
        heatPoints.push([c[1], c[0], p.overdue ? 1 : 0.6]);
      });
      heat.setLatLngs(heatPoints);
      statusLine.textContent = data.features.length + " " + cfg.text.reports + " · " + cfg.text.updated + " " +
        new Date().toLocaleTimeString();
    }
    /* Zoomed out, or more reports than a map should carry: counts on a grid instead. */
    function showCells(data) {
      points.clearLayers(); cells.clearLayers(); markers = {};
      var total = 0, heatPoints = [];
      U.separateCells(map, data.features).forEach(function (f) {
        var c = f.geometry.coordinates, p = f.properties;
        total += p.count;
        heatPoints.push([c[1], c[0], Math.min(1, p.count / 10)]);
        var size = Math.min(56, 22 + Math.round(Math.sqrt(p.count) * 3));
        var label = U.el("span", {style: "width:" + size + "px;height:" + size + "px"}, p.count);
        var hit = Math.max(44, size);  // a finger's touch target around the count
        L.marker([c[1], c[0]], {
          icon: L.divIcon({className: "cell-pin" + (p.overdue ? " overdue" : ""), iconSize: [hit, hit], html: label.outerHTML}),
          title: p.count + " " + cfg.text.reports + (p.overdue ? ", " + p.overdue + " " + cfg.text.overdue : "")
        }).on("click", function () { map.setView([c[1], c[0]], Math.max(map.getZoom() + 2, cfg.points_from_zoom)); })
          .addTo(cells);
      });
      heat.setLatLngs(heatPoints);
      statusLine.textContent = total + " " + cfg.text.reports + " · " + cfg.text.zoom_in;
    }
    function get(url, mine, then) {
      return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/geo+json"}})
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) { if (mine === seq) then(data); });
    }
    function load() {
      var mine = ++seq;
      var cellsUrl = cfg.cells_url + "?" + query() + "&zoom=" + map.getZoom();
      var done = map.getZoom() < cfg.points_from_zoom ? get(cellsUrl, mine, showCells)
        : get(cfg.points_url + "?" + query(), mine, function (data) {
            if (data.truncated) return get(cellsUrl, mine, showCells);
            show(data);
          });
      done.catch(function () { if (mine === seq) statusLine.textContent = cfg.text.failed; });
    }

    /* Selection: list checkboxes, the lasso and marker clicks all go through here. */
    var idsInput = document.getElementById("bulk-ids");
    var countOut = document.getElementById("selected-count");
    function setSelected(id, on) {
      if (on) selected.add(id); else selected.delete(id);
      var box = document.querySelector('input.pick[value="' + CSS.escape(id) + '"]');
      if (box) box.checked = on;
      var row = document.querySelector('tr[data-id="' + CSS.escape(id) + '"]');
      if (row) row.classList.toggle("picked", on);
      if (markers[id]) markers[id].setIcon(icon(markers[id].feature.properties));
      if (idsInput) idsInput.value = Array.from(selected).join(",");
      if (countOut) countOut.textContent = selected.size;
    }
    function highlightRow(id, scroll) {
      document.querySelectorAll("tr.active").forEach(function (r) { r.classList.remove("active"); });
      var row = document.querySelector('tr[data-id="' + CSS.escape(id) + '"]');
      if (row) { row.classList.add("active"); if (scroll) row.scrollIntoView({block: "nearest"}); }
    }
    document.querySelectorAll("input.pick").forEach(function (box) {
      box.addEventListener("change", function () { setSelected(box.value, box.checked); });
    });
    var all = document.getElementById("select-all");
    if (all) all.addEventListener("change", function () {
      document.querySelectorAll("input.pick").forEach(function (box) { setSelected(box.value, all.checked); });
    });
    document.querySelectorAll("tr[data-id]").forEach(function (row) {
      row.addEventListener("mouseenter", function () { highlightRow(row.dataset.id, false); });
      row.addEventListener("click", function (e) {
        if (e.target.closest("a, input")) return;
        var marker = markers[row.dataset.id];
        highlightRow(row.dataset.id, false);
        if (marker) points.zoomToShowLayer(marker, function () { marker.openPopup(); });
      });
    });

    /* Lasso: select every loaded marker inside the drawn polygon or rectangle. */
    function inside(latlng, ring) {
      var x = latlng.lng, y = latlng.lat, hit = false;
      for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        var xi = ring[i].lng, yi = ring[i].lat, xj = ring[j].lng, yj = ring[j].lat;
        if (((yi > y) !== (yj > y)) && (x < (xj - xi) * (y - yi) / (yj - yi) + xi)) hit = !hit;
      }
      return hit;
    }
    map.on("draw:created", function (e) {
      var ring = e.layer.getLatLngs()[0];
      Object.keys(markers).forEach(function (id) {
        if (inside(markers[id].getLatLng(), ring)) setSelected(id, true);
      });
      setTimeout(function () { e.layer.remove(); }, 600);  // the shape has done its job
    });

    /* The bulk form shows the inputs of the chosen action only. */
    var action = document.getElementById("bulk-action");
    function showInputs() {
      ["assign", "status", "reroute"].forEach(function (name) {
        document.querySelectorAll("#bulk .for-" + name).forEach(function (n) { n.hidden = action.value !== name; n.disabled = action.value !== name; });
      });
    }
    if (action) {  // a read-only viewer has no bulk form
      action.addEventListener("change", showInputs);
      showInputs();
    }

    document.getElementById("heat-toggle").addEventListener("change", function (e) {
      if (e.target.checked) heat.addTo(map); else map.removeLayer(heat);
    });
    document.getElementById("hotspot-toggle").addEventListener("change", function (e) {
      if (!e.target.checked) { map.removeLayer(hotspots); return; }
      hotspots.addTo(map);
      fetch("/api/v1/hotspots/").then(function (r) { return r.json(); }).then(function (data) {
        hotspots.clearLayers();
        L.geoJSON(data, {style: {color: "#c0392b", weight: 2, fillOpacity: 0.15}, onEachFeature: function (f, layer) {
          layer.bindTooltip(U.el("span", {}, f.properties.category.name + " · " + f.properties.report_count));
        }}).addTo(hotspots);
      });
    });

    map.on("moveend", load);
    load();
    setInterval(function () { if (!document.hidden) load(); }, cfg.refresh_seconds * 1000);
  }

  window.Citypin.consoleMap = consoleMap;
})();
