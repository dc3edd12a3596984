/* Citypin's service worker (incidents/citizen/offline.py renders it): the citizen pages open
   with no connection, and reports made offline are sent when it returns.

   - Citizen pages (/, /report/, /r/<id>/, /offline/): network first, so a citizen sees what is
     current; each page that loads is kept, and with no connection the kept copy opens (else
     the offline page).
   - Static files and the ward outlines: from the cache first (their URLs change with their
     content).
   - Everything else (the API, the console, the admin, open data, any POST) goes to the
     network untouched and is never stored: staff pages and some API answers are private.
   - Background Sync ("outbox"): reports waiting in IndexedDB are sent from here too, even
     with no page open (outbox.js; its Idempotency-Key makes a second send harmless). */
"use strict";
importScripts("{{ outbox_js }}");

const CACHE = "citypin-{{ version }}";
const PRECACHE = {{ precache|safe }};
const OFFLINE = "{{ offline_url }}";
const PAGES = /^\/(report\/|r\/[A-Za-z0-9-]+\/|offline\/)?$/;
const KEPT = new RegExp("^({{ static_prefix }}|/map/wards-)");

self.addEventListener("install", (event) => {
  event.waitUntil(Promise.all(PRECACHE.map((url) => fetch(new Request(url, {credentials: "same-origin"}))
    .then((response) => {
      if (!keepable(response)) throw new Error(url + ": " + response.status);  // no half-filled cache
      return PAGES.test(new URL(url, self.location).pathname) ? keepPage(url, response) : store(url, response);
    })))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("citypin-") && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

// Only a plain success is kept: never a redirect (a login page), an error or a partial answer.
function keepable(response) {
  return response.ok && response.status === 200 && response.type === "basic" && !response.redirected;
}

function store(key, response) {
  return caches.open(CACHE).then((cache) => cache.put(key, response));
}

function keep(key, response) {
  if (keepable(response)) store(key, response.clone());
  return response;
}

/* A page is kept without the report form's one-time submission token: a kept copy opened days
   later must not send its report under a token already used (the server would answer with the
   earlier report). offline.js gives such a form a new token made on the phone. */
function keepPage(key, response) {
  if (!keepable(response)) return Promise.resolve();
  const headers = new Headers(response.headers);
  ["Content-Length", "Content-Encoding"].forEach((name) => headers.delete(name));
  return response.clone().text().then((html) => store(key, new Response(
    html.replace(/(name="submission" value=")[^"]*"/g, '$1"'), {status: 200, headers: headers})));
}

self.addEventListener("fetch", (event) => {
  const request = event.request, url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    if (!PAGES.test(url.pathname)) return;  // the console, the admin, …: the network's alone
    event.respondWith(fetch(request)
      .then((response) => {
        event.waitUntil(keepPage(url.pathname, response));
        return response;
      })
      .catch(() => caches.match(url.pathname, {ignoreVary: true, ignoreSearch: true})
        .then((hit) => hit || caches.match(OFFLINE, {ignoreVary: true}))));
  } else if (KEPT.test(url.pathname)) {
    event.respondWith(caches.match(request, {ignoreVary: true})
      .then((hit) => hit || fetch(request).then((response) => keep(request, response))));
  }
});

self.addEventListener("sync", (event) => {
  if (event.tag === CitypinOutbox.SYNC_TAG) {
    event.waitUntil(CitypinOutbox.sendAll().then(CitypinOutbox.tellPages));
  }
});
