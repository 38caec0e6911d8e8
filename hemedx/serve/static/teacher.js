"use strict";
(function () {
  var el = hx.el, clear = hx.clear;
  var sid = document.body.getAttribute("data-session");
  var token = new URLSearchParams(location.hash.slice(1)).get("t") || "";
  var headers = {"X-Hemedx-Token": token};
  var base = "/api/t/" + sid;
  var explain = false, last = null, lastText = null, busy = false;
  var left = document.getElementById("left"), right = document.getElementById("right");
  document.getElementById("export-csv").href = base + "/export.csv?token=" + encodeURIComponent(token);
  document.getElementById("export-json").href = base + "/export.json?token=" + encodeURIComponent(token);

  var PHASE = {intro: "Presentation", open: "Findings — class answering", class: "Class answers",
               engine: "Engine beside the class", answer: "Answer key"};

  function findings(box, s, compact) {
    s.findings.forEach(function (st) {
      var current = st.index === s.stage;
      if (!current && compact) { return; }
      var sec = box.appendChild(el("section", "stage" + (current ? " current" : " earlier")));
      sec.setAttribute("data-stage", String(st.index + 1));
      sec.appendChild(el(current ? "h2" : "h3", null, "Stage " + (st.index + 1) + " of " + s.stages + ": " + st.name));
      if (current && st.note) { sec.appendChild(el("p", "note", st.note)); }
      var ul = sec.appendChild(el("ul", current ? "revealed" : "revealed small"));
      st.revealed.forEach(function (r) { ul.appendChild(el("li", null, r)); });
    });
  }
  function classPanel(box, s) {
    var c = s["class"];
    box.appendChild(el("h2", null, "Class (" + c.answered + " of " + c.students + " answered)"));
    if (!c.answered) { box.appendChild(el("p", "muted", "No answers for this stage.")); return; }
    box.appendChild(el("h3", null, "First picks"));
    box.appendChild(hx.bars(c.first_picks.slice(0, 6).map(function (r) {
      return {diagnosis: r.diagnosis, label: r.label, share: r.share, text: r.count + " (" + Math.round(r.share * 100) + "%)"};
    }), "share", "text")).classList.add("class-bars");
    box.appendChild(el("h3", null, "Top-3 agreement: listed among a student's three"));
    var ul = box.appendChild(el("ul", "top3"));
    c.top3.forEach(function (r) { ul.appendChild(el("li", null, r.label + ": " + Math.round(r.share * 100) + "%")); });
    if (s.agreement && s.agreement.answered) {
      var a = s.agreement;
      box.appendChild(el("p", "agreement", "First pick = engine's top: " + Math.round(a.first_pick_is_engine_top * 100) +
        "% · engine's top listed: " + Math.round(a.engine_top_listed * 100) + "%"));
    }
  }
  function enginePanel(box, s) {
    var e = s.engine;
    box.appendChild(el("h2", null, "Engine"));
    e.alerts.forEach(function (a) { box.appendChild(hx.line("p", a)).className = "alert"; });
    box.appendChild(hx.bars(e.differential.slice(0, 6).map(function (d) {
      return {diagnosis: d.diagnosis, label: d.label + (d.subtype_label ? " — " + d.subtype_label : ""), p: d.probability, text: d.shown};
    }), "p", "text")).classList.add("engine-bars");
    box.appendChild(el("p", "summary", e.summary));
    var nt = box.appendChild(el("p", "next"));
    nt.appendChild(el("strong", null, "Next best test: " + (e.next_test.label || "none") + ". "));
    hx.cites(nt.appendChild(el("span", null, e.next_test.why + " ")), e.next_test.cites);
  }
  function explanation(box, s) {
    box.appendChild(el("h2", null, "Why the engine ranks it so"));
    s.engine.explanation.forEach(function (d, i) {
      box.appendChild(el("h3", null, (i + 1) + ". " + d.label + ": " + d.shown));
      var ul = box.appendChild(el("ul", "lines"));
      d.lines.forEach(function (l) { ul.appendChild(hx.line("li", l)); });
    });
    var refs = box.appendChild(el("ol", "references"));
    s.engine.references.forEach(function (r) { var li = refs.appendChild(el("li", null, r.citation)); li.value = r.n; });
  }
  function answerPanel(box, s) {
    var a = s.answer;
    box.appendChild(el("h2", null, "Answer"));
    box.appendChild(el("p", "answer-key", a.label ? "Answer key: " + a.label + (a.subtype_label ? " — " + a.subtype_label : "") : "This case has no answer key."));
    box.appendChild(el("p", null, "The engine " + (a.engine_agrees ? "agrees" : "does not agree") + ": its final leader is " + a.engine_top + "."));
    if (a.teaching_points.length) {
      box.appendChild(el("h3", null, "Teaching points"));
      var ul = box.appendChild(el("ul", "points"));
      a.teaching_points.forEach(function (p) { ul.appendChild(hx.line("li", p)); });
    }
    var refs = box.appendChild(el("ol", "references"));
    a.references.forEach(function (r) { var li = refs.appendChild(el("li", null, r.citation)); li.value = r.n; });
  }
  function scores(box, s) {
    box.appendChild(el("h2", null, "Scores"));
    var t = box.appendChild(el("table", "scores"));
    s.scores.slice(0, 12).forEach(function (r) {
      var tr = t.appendChild(el("tr"));
      tr.appendChild(el("td", null, r.nickname));
      tr.appendChild(el("td", "num", r.points + " / " + r.max));
    });
  }
  function render(s) {
    last = s;
    document.title = s.title + " — hemedx teacher";
    document.querySelector("footer.disclaimer").textContent = s.disclaimer;  // synthetic or from a record
    document.getElementById("case-title").textContent = s.title + (s.cases > 1 ? " (case " + (s.case_index + 1) + " of " + s.cases + ")" : "");
    document.getElementById("progress").textContent = PHASE[s.phase] + (s.stage >= 0 && s.phase !== "answer" ? " · stage " + (s.stage + 1) + " of " + s.stages : "");
    document.getElementById("code").textContent = s.code;
    document.getElementById("explain").disabled = !s.engine;
    document.getElementById("hint").textContent = "→ / space next · ← back · e explanation · " + s.joined + " joined";
    clear(left); clear(right);
    document.body.setAttribute("data-phase", s.phase);
    if (s.phase === "intro") {
      left.appendChild(el("h1", null, s.title));
      left.appendChild(el("p", "patient", s.patient));
      if (s.presentation) { left.appendChild(el("p", "presentation", s.presentation)); }
      right.appendChild(el("h2", null, "Join on your phone"));
      var img = right.appendChild(el("img", "qr"));
      img.src = "/qr.svg"; img.alt = "QR code for " + s.join_url;
      right.appendChild(el("p", "big", s.join_url));
      right.appendChild(el("p", "big", "Code: " + s.code));
      right.appendChild(el("p", "muted", s.joined + " joined"));
    } else if (s.phase === "open") {
      findings(left, s, false);
      right.appendChild(el("h2", null, "Your differential?"));
      right.appendChild(el("p", "big answered", s.answered + " of " + s.joined + " answered"));
      right.appendChild(el("p", "muted", "Press → to close answers and reveal the class's."));
    } else if (s.phase === "class") {
      findings(left, s, true);
      classPanel(right, s);
    } else if (s.phase === "engine") {
      if (explain) { explanation(left, s); } else { classPanel(left, s); }
      enginePanel(right, s);
    } else {
      answerPanel(left, s);
      scores(right, s);
    }
    fit(left); fit(right);
  }
  // Nothing important below the fold: shrink a panel's type until its content fits the screen.
  // The reference list is secondary: it is left out of the measure and may run past the bottom.
  function fit(box) {
    var scale = 1, refs = box.querySelectorAll(".references");
    refs.forEach(function (r) { r.hidden = true; });
    box.style.fontSize = "";
    while (box.scrollHeight > box.clientHeight + 1 && scale > 0.5) {
      scale -= 0.05;
      box.style.fontSize = scale + "em";
    }
    refs.forEach(function (r) { r.hidden = false; });
  }
  function refresh() {
    return hx.api("GET", base + "/state", undefined, headers).then(function (s) {
      document.getElementById("error").textContent = "";
      var text = JSON.stringify(s);
      if (text !== lastText) { lastText = text; render(s); }  // unchanged: keep the page as it is
    }).catch(function (e) { document.getElementById("error").textContent = e.message; });
  }
  function move(where) {
    if (busy) { return; }
    busy = true; explain = false;
    hx.api("POST", base + "/" + where, undefined, headers).then(refresh)
      .catch(function (e) { document.getElementById("error").textContent = e.message; })
      .then(function () { busy = false; });
  }
  document.getElementById("advance").addEventListener("click", function () { move("advance"); });
  document.getElementById("back").addEventListener("click", function () { move("back"); });
  document.getElementById("explain").addEventListener("click", function () { explain = !explain; if (last) { render(last); } });
  document.addEventListener("keydown", function (ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) { return; }
    if (ev.key === "ArrowRight" || ev.key === " " || ev.key === "PageDown") { move("advance"); ev.preventDefault(); }
    else if (ev.key === "ArrowLeft" || ev.key === "PageUp") { move("back"); ev.preventDefault(); }
    else if (ev.key === "e" && last && last.engine) { explain = !explain; render(last); }
  });
  window.addEventListener("resize", function () { if (last) { render(last); } });
  refresh();
  setInterval(refresh, 1500);
})();
