/* Citypin's page scripts. User text is only ever set with textContent, never as HTML. */
(function () {
  "use strict";
  var config = function () {
    var node = document.getElementById("citypin-config");
    return node ? JSON.parse(node.textContent) : {};
  };
  var el = function (tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  };
  var csrf = function () {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  };
  var statusOf = function (cfg, code) {
    return cfg.statuses.filter(function (s) { return s.code === code; })[0] || {colour: "#555", symbol: "?", label: code};
  };
  var statusIcon = function (status) {
    // 44 px: a finger's touch target around the 24 px dot.
    return L.divIcon({className: "status-pin", iconSize: [44, 44], iconAnchor: [22, 22],
      html: '<span style="background:' + status.colour + '">' + status.symbol + "</span>"});
  };

  /* Ward outlines give the map its geography even when no tile server can be reached. They
     come after the page's first paint, from a file the browser keeps for a year
     (#map-text's data-wards-url carries the areas' data version). */
  function wardOutlines(map) {
    var pane = map.createPane("wards");
    pane.style.zIndex = 350;
    pane.style.pointerEvents = "none";
    var node = document.getElementById("map-text");
    var url = (node && node.dataset.wardsUrl) || "/api/v1/areas/?kind=ward&zoom=11";
    var later = window.requestIdleCallback || function (f) { return setTimeout(f, 200); };
    later(function () {
      fetch(url).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
        if (!data) return;
        L.geoJSON(data, {pane: "wards", interactive: false,
                         style: {color: "#7f8c8d", weight: 1, fill: true, fillColor: "#fdfefe", fillOpacity: 0.35}}).addTo(map);
      }).catch(function () {});
    });
  }

  /* Leaflet's own words in the page's language (base.html puts them on #map-text): the zoom
     buttons and Leaflet.draw's toolbar, actions and tooltips. The scale bar is metric only
     (site.css hides the imperial line folium adds). */
  function localizeMap(map) {
    var node = document.getElementById("map-text");
    if (!node) return;
    var t = node.dataset;
    var label = function (selector, text) {
      map.getContainer().querySelectorAll(selector).forEach(function (a) { a.title = text; a.setAttribute("aria-label", text); });
    };
    label(".leaflet-control-zoom-in", t.zoomIn);
    label(".leaflet-control-zoom-out", t.zoomOut);
    if (!window.L || !L.drawLocal) return;
    var d = L.drawLocal.draw;
    d.toolbar.buttons.polygon = t.drawPolygon;
    d.toolbar.buttons.rectangle = t.drawRectangle;
    d.toolbar.actions = {title: t.cancelTitle, text: t.cancel};
    d.toolbar.finish = {title: t.finishTitle, text: t.finish};
    d.toolbar.undo = {title: t.undoTitle, text: t.undo};
    d.handlers.polygon.tooltip = {start: t.polygonStart, cont: t.polygonCont, end: t.polygonEnd};
    d.handlers.polyline.tooltip = {start: t.polygonStart, cont: t.polygonCont, end: t.polygonEnd};
    d.handlers.polyline.error = t.shapeError;
    d.handlers.rectangle.tooltip = {start: t.rectangleStart};
    d.handlers.simpleshape.tooltip = {end: t.shapeEnd};
    label(".leaflet-draw-draw-polygon", t.drawPolygon);
    label(".leaflet-draw-draw-rectangle", t.drawRectangle);
    // The action links were built with the English words when folium added the toolbar.
    var actions = {"Finish": [t.finish, t.finishTitle], "Delete last point": [t.undo, t.undoTitle], "Cancel": [t.cancel, t.cancelTitle]};
    map.getContainer().querySelectorAll(".leaflet-draw-actions a").forEach(function (a) {
      var words = actions[a.textContent.trim()];
      if (words) { a.textContent = words[0]; a.title = words[1]; }
    });
  }

  /* Grid cells whose counts would overlap on screen (closer than a 44 px touch target) are
     merged into the fuller one, summing their numeric properties, so every count can be
     tapped on its own. */
  function separateCells(map, features) {
    var kept = [];
    features.slice().sort(function (a, b) { return b.properties.count - a.properties.count; }).forEach(function (f) {
      var c = f.geometry.coordinates, at = map.latLngToLayerPoint([c[1], c[0]]);
      var near = kept.filter(function (k) { return k.at.distanceTo(at) < 44; })[0];
      if (!near) { kept.push({at: at, f: {type: "Feature", geometry: f.geometry, properties: Object.assign({}, f.properties)}}); return; }
      Object.keys(f.properties).forEach(function (k) {
        if (typeof f.properties[k] === "number") near.f.properties[k] = (near.f.properties[k] || 0) + f.properties[k];
      });
    });
    return kept.map(function (k) { return k.f; });
  }

  /* The public map: points from the GeoJSON API for the visible box when zoomed in,
     grid counts from the aggregate API when zoomed out. Not from the vector tiles: the
     aggregate API reads the same kept grid counts, and one request per view cost the server
     less time and sent fewer bytes than the view's 24 tiles, pans included (bench/tiles.py part 3). */
  function publicMap(map) {
    var cfg = config();
    localizeMap(map);
    wardOutlines(map);
    var points = L.markerClusterGroup({maxClusterRadius: 50}).addTo(map);
    var cells = L.layerGroup().addTo(map);
    var statusLine = document.getElementById("map-status");
    var filters = document.getElementById("filters");
    var seq = 0;

    function query(extra) {
      var params = new URLSearchParams();
      new FormData(filters).forEach(function (v, k) { if (v) params.set(k, v); });
      var b = map.getBounds();
      params.set("bbox", [Math.max(b.getWest(), -180), Math.max(b.getSouth(), -90),
                          Math.min(b.getEast(), 180), Math.min(b.getNorth(), 90)].map(function (n) { return n.toFixed(6); }).join(","));
      Object.keys(extra).forEach(function (k) { params.set(k, extra[k]); });
      return params.toString();
    }
    function popup(p) {
      var box = el("div", {"class": "popup"});
      var status = statusOf(cfg, p.status);
      box.appendChild(el("strong", {}, p.category.name));
      box.appendChild(el("div", {"class": "popup-status"}, status.symbol + " " + status.label));
      if (p.description) box.appendChild(el("p", {}, p.description.length > 160 ? p.description.slice(0, 160) + "…" : p.description));
      box.appendChild(el("div", {}, p.department.name));
      if (p.supporter_count) box.appendChild(el("div", {}, p.supporter_count + " " + cfg.text.supporters));
      var link = el("a", {href: cfg.track_url + encodeURIComponent(p.public_id) + "/"}, cfg.text.details + " · " + p.public_id);
      box.appendChild(link);
      return box;
    }
    function showPoints(data) {
      points.clearLayers(); cells.clearLayers();
      data.features.forEach(function (f) {
        if (!f.geometry) return;
        var c = f.geometry.coordinates;
        var marker = L.marker([c[1], c[0]], {icon: statusIcon(statusOf(cfg, f.properties.status)),
                                            title: f.properties.category.name + " · " + statusOf(cfg, f.properties.status).label,
                                            keyboard: true});
        marker.bindPopup(popup(f.properties));
        points.addLayer(marker);
      });
      statusLine.textContent = data.features.length + " " + cfg.text.reports;
    }
    function showCells(data) {
      points.clearLayers(); cells.clearLayers();
      var total = 0;
      separateCells(map, data.features).forEach(function (f) {
        var c = f.geometry.coordinates, n = f.properties.count;
        total += n;
        var size = Math.min(56, 22 + Math.round(Math.sqrt(n) * 3)), hit = Math.max(44, size);  // 44 px to touch
        L.marker([c[1], c[0]], {
          icon: L.divIcon({className: "cell-pin", iconSize: [hit, hit],
                           html: '<span style="width:' + size + "px;height:" + size + 'px">' + num(n) + "</span>"}),
          title: n + " " + cfg.text.reports + ", " + f.properties.open + " " + cfg.text.open
        }).on("click", function () { map.setView([c[1], c[0]], Math.min(map.getZoom() + 2, cfg.points_from_zoom)); })
          .addTo(cells);
      });
      statusLine.textContent = num(total) + " " + cfg.text.reports + " · " + cfg.text.zoom_in;
    }
    function load() {
      var mine = ++seq;
      statusLine.textContent = cfg.text.loading;
      var zoomedIn = map.getZoom() >= cfg.points_from_zoom;
      var url = zoomedIn ? cfg.reports_url + "?" + query({limit: cfg.max_points})
                         : cfg.aggregate_url + "?" + query({zoom: map.getZoom()});
      fetch(url, {headers: {"Accept": "application/geo+json"}})
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) {
          if (mine !== seq) return;
          // More reports than a map should carry: show the counts instead.
          if (zoomedIn && data.next) {
            return fetch(cfg.aggregate_url + "?" + query({zoom: map.getZoom()})).then(function (r) { return r.json(); })
              .then(function (agg) { if (mine === seq) showCells(agg); });
          }
          (zoomedIn ? showPoints : showCells)(data);
        })
        .catch(function () { if (mine === seq) statusLine.textContent = cfg.text.failed; });
    }
    map.on("moveend", load);
    filters.addEventListener("change", load);
    load();

    // Hotspots: where a category keeps being reported (last 30 days), as outlined areas.
    var hotspots = L.layerGroup();
    var toggle = document.getElementById("show-hotspots");
    function loadHotspots() {
      var category = filters.querySelector("[name=category]").value;
      fetch(cfg.hotspots_url + (category ? "?category=" + encodeURIComponent(category) : ""))
        .then(function (r) { return r.ok ? r.json() : {features: []}; })
        .then(function (data) {
          hotspots.clearLayers();
          L.geoJSON(data, {
            style: {color: "#e67e22", weight: 2, dashArray: "6 4", fillColor: "#f5b041", fillOpacity: 0.25},
            onEachFeature: function (f, layer) {
              var p = f.properties, box = el("div", {"class": "popup"});
              box.appendChild(el("strong", {}, cfg.text.hotspot + ": " + p.category.name));
              box.appendChild(el("div", {}, p.report_count + " " + cfg.text.reports + " · " +
                Math.round(p.open_share * 100) + "% " + cfg.text.open));
              box.appendChild(el("div", {}, cfg.text.previous + ": " + p.previous_count));
              layer.bindPopup(box);
            }
          }).addTo(hotspots);
        });
    }
    function showHotspots() {
      if (toggle.checked) { hotspots.addTo(map); loadHotspots(); } else { map.removeLayer(hotspots); }
    }
    toggle.addEventListener("change", showHotspots);
    filters.querySelector("[name=category]").addEventListener("change", function () { if (toggle.checked) loadHotspots(); });
    showHotspots();
    window.citypinMap = map;
  }

  /* The report draft, kept in the browser so that a language switch, a reload or a closed tab
     loses nothing: what and where in localStorage (for a week), the contact details only in
     sessionStorage (gone with the tab: phones are often shared). Photos cannot be stored this
     way; after a refused submission the server keeps them. The confirmation page clears both. */
  var DRAFT_KEY = "citypin:report-draft", CONTACT_KEY = "citypin:report-contact", DRAFT_DAYS = 7;
  var CONTACT = ["name", "email", "phone"];
  var NOT_DRAFTED = ["csrfmiddlewaretoken", "submission", "website", "photos", "photo_token", "drop_photos"];
  function store(kind) {
    try { var s = window[kind]; s.setItem("citypin:probe", "1"); s.removeItem("citypin:probe"); return s; }
    catch (e) { return null; }  // private mode, storage disabled or full: the form still works
  }
  function clearDraft() {
    var local = store("localStorage"), session = store("sessionStorage");
    if (local) local.removeItem(DRAFT_KEY);
    if (session) session.removeItem(CONTACT_KEY);
  }
  function draftInputs(form) {
    return Array.prototype.filter.call(form.elements, function (i) {
      return i.name && NOT_DRAFTED.indexOf(i.name) < 0 && ["submit", "button", "file"].indexOf(i.type) < 0;
    });
  }
  function saveDraft(form) {
    var what = {}, who = {}, filled = false;
    draftInputs(form).forEach(function (i) {
      var bag = CONTACT.indexOf(i.name) >= 0 ? who : what;
      if (i.type === "checkbox" || i.type === "radio") {
        bag[i.name] = bag[i.name] || [];
        if (i.checked) { bag[i.name].push(i.value); filled = true; }
      } else {
        bag[i.name] = i.value;
        if (i.value && i.type !== "hidden") filled = true;
      }
    });
    var local = store("localStorage"), session = store("sessionStorage");
    try {
      if (local) { if (filled) local.setItem(DRAFT_KEY, JSON.stringify({saved: Date.now(), fields: what})); else local.removeItem(DRAFT_KEY); }
      if (session) session.setItem(CONTACT_KEY, JSON.stringify(who));
    } catch (e) { /* storage full: nothing more to do */ }
  }
  function restoreDraft(form) {
    var local = store("localStorage"), session = store("sessionStorage"), fields = {};
    try {
      var draft = local && JSON.parse(local.getItem(DRAFT_KEY) || "null");
      if (draft && Date.now() - draft.saved < DRAFT_DAYS * 86400000) fields = draft.fields || {};
      var who = session && JSON.parse(session.getItem(CONTACT_KEY) || "null");
      Object.keys(who || {}).forEach(function (k) { fields[k] = who[k]; });
    } catch (e) { return false; }
    var restored = false;
    draftInputs(form).forEach(function (i) {
      if (!(i.name in fields)) return;
      var value = fields[i.name];
      if (i.type === "checkbox" || i.type === "radio") {
        i.checked = Array.isArray(value) && value.indexOf(i.value) >= 0;
        restored = restored || i.checked;
      } else if (typeof value === "string" && value) {
        i.value = value;
        restored = restored || i.value === value;
      }
    });
    return restored;
  }

  /* Errors: focus moves to the summary at the top; each of its links moves focus to its field. */
  function errorSummary() {
    var summary = document.getElementById("error-summary");
    if (!summary) return;
    if (document.activeElement !== summary) summary.focus();
    summary.querySelectorAll("a[href^='#']").forEach(function (link) {
      link.addEventListener("click", function (e) {
        var field = document.getElementById(link.getAttribute("href").slice(1));
        if (!field) return;
        e.preventDefault();
        var details = field.closest("details");
        if (details) details.open = true;
        field.scrollIntoView({block: "center"});
        field.focus();
      });
    });
  }

  var num = function (n) {
    try { return new Intl.NumberFormat(document.documentElement.lang || undefined).format(n); } catch (e) { return String(n); }
  };

  /* The place search above the report form's map: wards and named roads by name, diacritics
     optional (GET places_url?q=). Choosing one moves the map there; the citizen then taps the
     exact spot. Without JavaScript the box stays hidden and the ward list does the job. */
  function placeSearch(map, cfg) {
    var box = document.getElementById("place-search");
    if (!box) return;
    var input = box.querySelector("input"), results = box.querySelector("ul"), status = box.querySelector("[role=status]");
    var timer = null, seq = 0;
    box.hidden = false;
    function go(feature) {
      var c = feature.geometry.coordinates, b = feature.bbox;
      if (feature.properties.source === "area" && b) {
        map.fitBounds([[b[1], b[0]], [b[3], b[2]]], {maxZoom: cfg.street_zoom});
      } else {
        map.setView([c[1], c[0]], cfg.street_zoom - 1);
      }
      results.innerHTML = "";
      input.value = feature.properties.name;
      status.textContent = cfg.text.now_tap;
      map.getContainer().focus();
    }
    function show(features) {
      results.innerHTML = "";
      features.forEach(function (f) {
        var item = el("li"), button = el("button", {type: "button", "class": "place"}, f.properties.name);
        button.addEventListener("click", function () { go(f); });
        item.appendChild(button);
        results.appendChild(item);
      });
      status.textContent = features.length ? "" : cfg.text.no_place;
    }
    function search() {
      var q = input.value.trim(), mine = ++seq;
      if (q.length < 2) { results.innerHTML = ""; status.textContent = ""; return; }
      fetch(cfg.places_url + "?" + new URLSearchParams({q: q}))
        .then(function (r) { return r.ok ? r.json() : {features: []}; })
        .then(function (data) { if (mine === seq) show(data.features); })
        .catch(function () {});
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 250); });
    input.addEventListener("keydown", function (e) {
      if (e.key !== "Enter") return;
      e.preventDefault();  // Enter searches; it never sends the report
      var first = results.querySelector("button");
      if (first) first.click(); else search();
    });
  }

  /* The report form: pin by tap/click and drag, "use my location", lat/lon inputs kept in step,
     attribute fields of the chosen category, duplicate suggestions, photo GPS offer. */
  function reportForm(map) {
    var cfg = config();
    localizeMap(map);
    wardOutlines(map);
    var form = document.querySelector("form.report");
    var lat = form.querySelector("[name=lat]"), lon = form.querySelector("[name=lon]");
    var accuracy = form.querySelector("[name=location_accuracy_m]");
    var category = form.querySelector("[name=category]");
    var pinStatus = document.getElementById("pin-status");
    var nearby = document.getElementById("nearby");
    var marker = null, circle = null;

    function setPin(latlng, accuracyM, fromInputs) {
      if (!marker) {
        marker = L.marker(latlng, {draggable: true, keyboard: true, title: cfg.text.pin_set}).addTo(map);
        marker.on("dragend", function () { setPin(marker.getLatLng(), null); });
      } else {
        marker.setLatLng(latlng);
      }
      if (circle) { map.removeLayer(circle); circle = null; }
      if (accuracyM) circle = L.circle(latlng, {radius: accuracyM, weight: 1}).addTo(map);
      accuracy.value = accuracyM ? Math.round(accuracyM) : "";
      if (!fromInputs) { lat.value = latlng.lat.toFixed(6); lon.value = latlng.lng.toFixed(6); }
      var precision = accuracyM ? " (" + cfg.text.accuracy + " ±" + num(Math.round(accuracyM)) + " m)" : "";
      pinStatus.textContent = cfg.text.pin_set + " " + Number(latlng.lat).toFixed(5) + ", " + Number(latlng.lng).toFixed(5) + precision;
      describePin(latlng, precision);
      form.dataset.pinned = "1";
      saveDraft(form);
      suggest();
    }
    // Say where the pin is in words: the nearest named road and the ward ("Quốc lộ 61, Xã Hoả Lựu").
    var described = 0;
    function describePin(latlng, precision) {
      var mine = ++described;
      fetch(cfg.places_url + "?" + new URLSearchParams({lon: latlng.lng.toFixed(6), lat: latlng.lat.toFixed(6)}))
        .then(function (r) { return r.ok ? r.json() : {features: []}; })
        .then(function (data) {
          if (mine !== described || !data.features.length) return;
          pinStatus.textContent = cfg.text.pin_at + " " + data.features.map(function (f) { return f.properties.name; }).join(", ") + precision;
        }).catch(function () {});
    }
    // A tap drops the pin and zooms to street level, where a drag can place it to the metre.
    map.on("click", function (e) {
      setPin(e.latlng, null);
      if (map.getZoom() < cfg.street_zoom) map.setView(e.latlng, cfg.street_zoom);
    });
    placeSearch(map, cfg);
    [lat, lon].forEach(function (input) {
      input.addEventListener("change", function () {
        var a = parseFloat(lat.value), b = parseFloat(lon.value);
        if (isFinite(a) && isFinite(b) && Math.abs(a) <= 90 && Math.abs(b) <= 180) {
          setPin(L.latLng(a, b), null, true); map.setView([a, b], Math.max(map.getZoom(), 16));
        }
      });
    });
    var restored = !form.dataset.bound && restoreDraft(form);
    if (lat.value && lon.value) {
      setPin(L.latLng(parseFloat(lat.value), parseFloat(lon.value)), parseFloat(accuracy.value) || null, true);
      if (restored) map.setView([parseFloat(lat.value), parseFloat(lon.value)], 17);
    }
    if (restored) {
      var notice = el("p", {"class": "offer draft-restored", role: "status"}, cfg.text.draft_restored + " ");
      var again = el("button", {type: "button", "class": "secondary small"}, cfg.text.start_over);
      again.addEventListener("click", function () { clearDraft(); window.location.reload(); });
      notice.appendChild(again);
      form.insertBefore(notice, form.querySelector("fieldset"));
    }
    form.addEventListener("input", function () { saveDraft(form); });
    form.addEventListener("change", function () { saveDraft(form); });
    // Kept in the outbox with no connection (offline.js): the form starts afresh.
    form.addEventListener("citypin:kept", function () {
      form.reset();
      clearDraft();
      if (marker) { map.removeLayer(marker); marker = null; }
      if (circle) { map.removeLayer(circle); circle = null; }
      delete form.dataset.pinned;
      pinStatus.textContent = "";
      nearby.hidden = true;
      showAttributes();
    });
    errorSummary();

    document.getElementById("locate").addEventListener("click", function () {
      if (!navigator.geolocation) { pinStatus.textContent = cfg.text.geolocation_failed; return; }
      navigator.geolocation.getCurrentPosition(function (pos) {
        var ll = L.latLng(pos.coords.latitude, pos.coords.longitude);
        setPin(ll, pos.coords.accuracy); map.setView(ll, 17);
      }, function () { pinStatus.textContent = cfg.text.geolocation_failed; }, {enableHighAccuracy: true, timeout: 15000});
    });

    function showAttributes() {
      form.querySelectorAll("fieldset.attributes").forEach(function (set) {
        var mine = set.dataset.category === category.value;
        set.hidden = !mine;
        set.querySelectorAll("input,select,textarea").forEach(function (i) { i.disabled = !mine; });
      });
    }
    category.addEventListener("change", function () { showAttributes(); suggest(); });
    showAttributes();

    var asked = "";
    function suggest() {
      if (!category.value || !lat.value || !lon.value) { nearby.hidden = true; return; }
      var key = category.value + "|" + lat.value + "|" + lon.value;
      if (key === asked) return;
      asked = key;
      var url = cfg.nearby_url + "?" + new URLSearchParams({category: category.value, lon: lon.value, lat: lat.value});
      fetch(url).then(function (r) { return r.ok ? r.json() : {features: []}; }).then(function (data) {
        if (asked !== key) return;
        nearby.innerHTML = "";
        if (!data.features.length) { nearby.appendChild(el("p", {"class": "hint"}, cfg.text.none)); nearby.hidden = false; return; }
        nearby.appendChild(el("h2", {}, cfg.text.similar));
        data.features.forEach(function (f) { nearby.appendChild(card(f.properties)); });
        nearby.hidden = false;
      });
    }
    function card(p) {
      var status = statusOf(cfg, p.status);
      var box = el("div", {"class": "card", "data-report": p.public_id});
      if (p.photos && p.photos.length) box.appendChild(el("img", {src: p.photos[0].thumbnail, alt: "", loading: "lazy"}));
      var body = el("div", {"class": "card-body"});
      var days = Math.floor((Date.now() - Date.parse(p.created_at)) / 86400000);
      body.appendChild(el("strong", {}, p.category.name));
      body.appendChild(el("div", {}, status.symbol + " " + status.label + " · " + p.distance_m + " " + cfg.text.m_away + " · " +
        (days < 1 ? cfg.text.today : days + " " + cfg.text.days_old) + " · "));
      var count = el("span", {"class": "supporter-count"}, num(p.supporter_count) + " " + cfg.text.supporters);
      body.lastChild.appendChild(count);
      if (p.description) body.appendChild(el("p", {}, p.description.slice(0, 140)));
      var email = el("input", {type: "email", "aria-label": cfg.text.email_optional, placeholder: cfg.text.email_optional});
      var button = el("button", {type: "button", "class": "secondary support"}, cfg.text.support);
      var result = el("p", {"class": "hint", role: "status"});
      button.addEventListener("click", function () {
        button.disabled = true;
        fetch(cfg.supporters_url.replace("{id}", encodeURIComponent(p.public_id)), {
          method: "POST", credentials: "same-origin",
          headers: {"Content-Type": "application/json", "X-CSRFToken": csrf()},
          body: JSON.stringify({email: email.value})
        }).then(function (r) { return r.json().then(function (d) { return {ok: r.ok, data: d}; }); })
          .then(function (res) {
            if (res.ok) {
              count.textContent = num(res.data.supporter_count) + " " + cfg.text.supporters;
              result.textContent = cfg.text.supported;
              var link = el("a", {href: cfg.track_url + encodeURIComponent(p.public_id) + "/"}, p.public_id);
              result.appendChild(document.createTextNode(" ")); result.appendChild(link);
            } else {
              result.textContent = Object.keys(res.data).map(function (k) { return res.data[k].join(" "); }).join(" ");
              button.disabled = false;
            }
          });
      });
      body.appendChild(email); body.appendChild(button); body.appendChild(result);
      box.appendChild(body);
      return box;
    }

    var photos = form.querySelector("[name=photos]");
    var offer = document.getElementById("photo-location");
    photos.addEventListener("change", function () {
      offer.hidden = true;
      if (form.dataset.pinned || !window.exifr || !photos.files.length) return;
      window.exifr.gps(photos.files[0]).then(function (gps) {
        if (!gps || form.dataset.pinned) return;
        offer.innerHTML = "";
        var use = el("button", {type: "button", "class": "secondary"}, cfg.text.use_photo +
          " (" + gps.latitude.toFixed(5) + ", " + gps.longitude.toFixed(5) + ")");
        use.addEventListener("click", function () {
          var ll = L.latLng(gps.latitude, gps.longitude); setPin(ll, null); map.setView(ll, 17); offer.hidden = true;
        });
        offer.appendChild(use); offer.hidden = false;
      }).catch(function () {});
    });
    if (cfg.photo_location) map.setView([cfg.photo_location.lat, cfg.photo_location.lon], 17);
    window.citypinMap = map;
  }

  function trackMap(map, coordinates, colour) {
    localizeMap(map);
    wardOutlines(map);
    L.circleMarker([coordinates[1], coordinates[0]], {radius: 10, color: "#fff", weight: 2, fillColor: colour,
                                                     fillOpacity: 1}).addTo(map);
    window.citypinMap = map;
  }

  // The confirmation page: the report is sent, so its draft goes.
  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector(".confirm")) clearDraft();
  });

  window.Citypin = {publicMap: publicMap, reportForm: reportForm, trackMap: trackMap,
                    util: {el: el, statusOf: statusOf, statusIcon: statusIcon, wardOutlines: wardOutlines,
                          localizeMap: localizeMap, separateCells: separateCells}};
})();
