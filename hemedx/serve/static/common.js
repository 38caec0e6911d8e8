"use strict";
/* Shared helpers for the hemedx pages: build elements with textContent only (never innerHTML). */
var hx = (function () {
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } return node; }
  function cites(parent, list) {
    (list || []).forEach(function (c) { parent.appendChild(el("sup", "cite", "[" + c.n + "]")); });
    return parent;
  }
  function line(tag, item) { return cites(el(tag, null, item.text + " "), item.cites); }
  function api(method, url, body, headers) {
    var opts = {method: method, headers: Object.assign({"Accept": "application/json"}, headers || {}),
                credentials: "same-origin"};
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(url, opts).then(function (r) {
      return r.json().catch(function () { return {error: "HTTP " + r.status}; }).then(function (data) {
        if (!r.ok) { var e = new Error(data.error || ("HTTP " + r.status)); e.status = r.status; throw e; }
        return data;
      });
    });
  }
  function bars(rows, valueKey, textKey) {
    var box = el("div", "bars");
    rows.forEach(function (r) {
      var row = el("div", "row");
      if (r.diagnosis) { row.setAttribute("data-diagnosis", r.diagnosis); }
      row.appendChild(el("span", "label", r.label));
      var track = el("div", "track");
      var bar = el("div", "bar");
      bar.style.width = Math.max(0, Math.min(100, r[valueKey] * 100)) + "%";
      track.appendChild(bar);
      row.appendChild(track);
      row.appendChild(el("span", "pct", r[textKey]));
      box.appendChild(row);
    });
    return box;
  }
  return {el: el, clear: clear, cites: cites, line: line, api: api, bars: bars};
})();
