/* Citypin's outbox: reports made with no connection wait on the phone and are sent when it
   returns. Shared by the pages (offline.js) and the service worker (sw.js, Background Sync),
   so it touches neither the DOM nor localStorage.

   A report waits in IndexedDB as the form's fields and its photos (Blobs), under a random
   32-character key made when it was kept. It is sent to the form's own endpoint (the API takes
   no photos) with that key as both the form's one-time submission token and the
   Idempotency-Key header: a retry after a lost answer gets the same report back, never a
   second one. Page and worker send under one Web Lock, so they never send at once.

   States: "waiting" (kept, not sent yet) → "sent" (url and public_id of its tracking page) or
   "refused" (the server checked it and returned the form with errors: its fields go back to
   the form's draft). A page that has shown a sent or refused report removes it. */
(function (scope) {
  "use strict";
  var DB = "citypin", STORE = "outbox", SYNC_TAG = "citypin-outbox";

  function open() {
    return new Promise(function (resolve, reject) {
      if (!scope.indexedDB) { reject(new Error("no IndexedDB")); return; }
      var request = scope.indexedDB.open(DB, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE, {keyPath: "id"}); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  // Runs work(store) in one transaction; resolves with what work's request returned, once committed.
  function transact(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode), request = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(request ? request.result : undefined); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function newKey() {
    var bytes = new Uint8Array(24), alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    scope.crypto.getRandomValues(bytes);
    var key = "";  // base64url of 24 random bytes: 32 characters, as the form's own tokens
    for (var i = 0; i < 24; i += 3) {
      var n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
      key += alphabet[n >> 18 & 63] + alphabet[n >> 12 & 63] + alphabet[n >> 6 & 63] + alphabet[n & 63];
    }
    return key;
  }

  /* Keeps a report: entries are [name, text] or [name, Blob, file name]; action is the URL
     the form posts to; csrf the page's token (used if no page is open when it is sent). */
  function add(entries, action, csrf) {
    var item = {id: newKey(), saved: Date.now(), entries: entries, action: action, csrf: csrf, state: "waiting"};
    return transact("readwrite", function (store) { return store.add(item); }).then(function () { return item; });
  }
  function all() {
    return transact("readonly", function (store) { return store.getAll(); }).then(function (items) {
      return items.sort(function (a, b) { return a.saved - b.saved; });
    });
  }
  function update(id, changes) {
    return transact("readwrite", function (store) {
      var request = store.get(id);
      request.onsuccess = function () {
        if (!request.result) return;
        Object.keys(changes).forEach(function (k) { request.result[k] = changes[k]; });
        store.put(request.result);
      };
      return null;
    });
  }
  function remove(id) {
    return transact("readwrite", function (store) { return store.delete(id); });
  }

  function sendOne(item, csrf) {
    var body = new FormData();
    item.entries.forEach(function (e) {
      if (e.length === 3) body.append(e[0], e[1], e[2]); else body.append(e[0], e[1]);
    });
    body.set("submission", item.id);
    return fetch(item.action, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"Idempotency-Key": item.id, "X-CSRFToken": csrf || item.csrf}
    }).then(function (response) {
      var path = new URL(response.url).pathname, tracking = /^\/r\/([^/]+)\/$/.exec(path);
      if (response.redirected && tracking) {
        return update(item.id, {state: "sent", url: path, public_id: decodeURIComponent(tracking[1])});
      }
      if (response.status === 200 || response.status === 400 || response.status === 413) {
        return update(item.id, {state: "refused"});  // the server's checks said no: the citizen decides
      }
      throw new Error("HTTP " + response.status);  // CSRF, too many, server down: kept for later
    });
  }

  function locked(work) {
    if (scope.navigator.locks) return scope.navigator.locks.request(SYNC_TAG, work);
    return work();
  }

  /* Sends every waiting report, one at a time, stopping at the first that cannot be sent yet.
     Resolves with {sent, waiting}: how many went and how many still wait. */
  function sendAll(csrf) {
    return locked(function () {
      return all().then(function (items) {
        var waiting = items.filter(function (i) { return i.state === "waiting"; }), sent = 0;
        return waiting.reduce(function (chain, item) {
          return chain.then(function (stop) {
            if (stop) return true;
            return sendOne(item, csrf).then(function () { sent += 1; return false; }, function () { return true; });
          });
        }, Promise.resolve(false)).then(function () { return {sent: sent, waiting: waiting.length - sent}; });
      });
    });
  }

  // From the worker: the open pages show what changed. A sync that leaves reports waiting
  // fails, so the browser tries again later.
  function tellPages(result) {
    return scope.clients.matchAll({type: "window"}).then(function (pages) {
      pages.forEach(function (page) { page.postMessage({type: SYNC_TAG}); });
      if (result.waiting) throw new Error(result.waiting + " report(s) still waiting");
    });
  }

  scope.CitypinOutbox = {SYNC_TAG: SYNC_TAG, add: add, all: all, remove: remove, sendAll: sendAll,
                         tellPages: tellPages, newKey: newKey};
})(self);
