/* Offline and installable, on every citizen page: registers the service worker (sw.js), keeps a
   report made with no connection in the outbox (outbox.js) and sends it when the connection
   returns (the "online" event, the next page opened, Background Sync where the browser has it).
   #outbox, a status line under the page's heading, says what waits and what was sent. The
   words come from this script's data attributes (translated by the page's template).
   Without JavaScript, or online, the report form posts as it always did. */
(function () {
  "use strict";
  var script = document.currentScript, text = script ? script.dataset : {};
  var outbox = window.CitypinOutbox;
  var shown = [], said = {};  // sent and refused reports this page has shown (by key), kept on screen

  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function el(tag, attrs, content) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (content) node.textContent = content;
    return node;
  }
  function description(item) {
    var entry = item.entries.filter(function (e) { return e[0] === "description" && e.length === 2; })[0];
    var words = entry ? entry[1].trim() : "";
    return words ? " «" + (words.length > 60 ? words.slice(0, 60) + "…" : words) + "»" : "";
  }

  function statusBox() {
    var box = document.getElementById("outbox");
    if (box) return box;
    var main = document.getElementById("main");
    if (!main) return null;
    box = el("div", {id: "outbox", "class": "outbox", role: "status", "aria-live": "polite", tabindex: "-1"});
    box.hidden = true;
    var heading = main.querySelector("h1");
    if (heading) heading.parentNode.insertBefore(box, heading.nextSibling); else main.insertBefore(box, main.firstChild);
    return box;
  }

  // A refused report's words go back to the form's draft (citypin.js restores it there).
  function toDraft(item) {
    var fields = {};
    item.entries.forEach(function (e) {
      if (e.length !== 2 || e[0] === "photo_token") return;
      if (e[0] in fields) fields[e[0]] = [].concat(fields[e[0]], e[1]); else fields[e[0]] = e[1];
    });
    try { window.localStorage.setItem("citypin:report-draft", JSON.stringify({saved: Date.now(), fields: fields})); }
    catch (e) { /* no storage: the status still says what happened */ }
  }

  function render() {
    var box = statusBox();
    if (!box || !outbox) return Promise.resolve();
    return outbox.all().then(function (items) {
      var lines = [];
      items.forEach(function (item) {
        if (item.state === "waiting") {
          lines.push(el("p", {"class": "waiting", "data-report": item.id}, text.waiting + description(item)));
        } else if (said[item.id]) {
          return;  // another render of this page is removing it
        } else if (item.state === "sent") {
          said[item.id] = true;
          var sent = el("p", {"class": "sent"}, text.sent + " ");
          sent.appendChild(el("a", {href: item.url}, item.public_id));
          shown.push(sent);
          outbox.remove(item.id);
        } else if (item.state === "refused") {
          said[item.id] = true;
          var refused = el("p", {"class": "refused"}, text.refused + description(item) + " ");
          refused.appendChild(el("a", {href: item.action}, text.check));
          toDraft(item);
          shown.push(refused);
          outbox.remove(item.id);
        }
      });
      box.innerHTML = "";
      shown.concat(lines).forEach(function (line) { box.appendChild(line); });
      box.hidden = !box.childNodes.length;
    }).catch(function () {});
  }

  var sending = false;
  function send() {
    if (!outbox || sending || !navigator.onLine) return Promise.resolve();
    sending = true;
    return outbox.sendAll(csrf()).catch(function () {}).then(function () { sending = false; return render(); });
  }

  function askForSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.sync) return registration.sync.register(outbox.SYNC_TAG);
    }).catch(function () {});
  }

  // With no connection, the report form's report goes to the outbox instead of the network.
  function keepWhenOffline(form) {
    form.addEventListener("submit", function (event) {
      if (navigator.onLine || !outbox || event.defaultPrevented) return;
      event.preventDefault();
      var entries = [];
      new FormData(form).forEach(function (value, name) {
        if (name === "csrfmiddlewaretoken" || name === "submission") return;
        if (typeof value === "string") entries.push([name, value]);
        else if (value.size) entries.push([name, value, value.name]);
      });
      outbox.add(entries, form.action, csrf()).then(function () {
        form.dispatchEvent(new CustomEvent("citypin:kept"));  // citypin.js starts a fresh form
        return render();
      }).then(function () {
        var box = statusBox();
        if (box) { box.scrollIntoView({block: "center"}); box.focus(); }
        askForSync();
      }).catch(function () { form.submit(); });  // no IndexedDB here: let the browser try
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if ("serviceWorker" in navigator && text.worker) {
      // After the page has loaded: its precaching never competes with the page's own files.
      window.addEventListener("load", function () {
        navigator.serviceWorker.register(text.worker, {scope: "/"}).catch(function () {});
      });
      navigator.serviceWorker.addEventListener("message", function (event) {
        if (event.data && event.data.type === (outbox && outbox.SYNC_TAG)) render();
      });
    }
    var form = document.querySelector("form.report");
    if (form) keepWhenOffline(form);
    // A copy kept by the worker has no one-time token (sw.js): this page gets its own.
    var token = form && form.querySelector("input[name=submission]");
    if (token && !token.value && outbox) token.value = outbox.newKey();
    render().then(send);
    window.addEventListener("online", send);
  });
})();
