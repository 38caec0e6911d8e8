"use strict";
(function () {
  var el = hx.el, clear = hx.clear;
  var sid = document.body.getAttribute("data-session");
  var selfStudy = document.body.getAttribute("data-mode") === "self";
  var base = "/api/s/" + sid;
  var form = document.getElementById("answer");
  var picks = [1, 2, 3].map(function (i) { return document.getElementById("pick-" + i); });
  var subtype = document.getElementById("subtype");
  var subtypeRow = document.getElementById("subtype-row");
  var next = document.getElementById("self-next");
  var state = null, stateText = null, formKey = null, byLabel = {}, byId = {};

  function idOf(text) {
    var t = text.trim().toLowerCase();
    return byLabel[t] || (byId[t] ? t : null);
  }
  function fillSubtypes() {
    if (!state || !state.subtype_asked) { subtypeRow.hidden = true; return; }
    var dx = byId[idOf(picks[0].value) || ""];
    var keep = subtype.value;
    clear(subtype);
    subtype.appendChild(el("option", null, "(not sure)")).value = "";
    (dx ? dx.subtypes : []).forEach(function (s) { subtype.appendChild(el("option", null, s.label)).value = s.id; });
    subtype.value = keep;
    subtypeRow.hidden = !(dx && dx.subtypes.length);
  }
  function status(s) {
    if (s.phase === "intro") { return selfStudy ? "Read the presentation, then continue." : "Waiting for the teacher to open the first stage."; }
    if (s.phase === "open") { return s.my_answer ? "Committed. You can change it until the stage closes." : "Stage " + (s.stage + 1) + " of " + s.stages + ": commit your differential."; }
    if (s.phase === "class") { return "Answers closed: the class's answers are on the projector."; }
    if (s.phase === "engine") { return "The engine's view is revealed: your score is below."; }
    return "The answer is revealed.";
  }
  function render(s) {
    state = s;
    if (!Object.keys(byId).length) {
      var list = document.getElementById("dx-list");
      s.diagnoses.forEach(function (d) {
        byId[d.id] = d; byLabel[d.label.toLowerCase()] = d.id;
        list.appendChild(el("option")).value = d.label;
      });
    }
    document.querySelector("footer.disclaimer").textContent = s.disclaimer;  // synthetic or from a record
    document.getElementById("case-title").textContent = s.title;
    document.getElementById("status").textContent = status(s);
    var box = clear(document.getElementById("findings"));
    box.appendChild(el("p", "patient", s.patient + (s.presentation ? ". " + s.presentation : "")));
    s.findings.slice().reverse().forEach(function (st) {
      var sec = box.appendChild(el("section", "stage" + (st.index === s.stage ? " current" : "")));
      sec.appendChild(el("h2", null, "Stage " + (st.index + 1) + ": " + st.name));
      var ul = sec.appendChild(el("ul"));
      st.revealed.forEach(function (r) { ul.appendChild(el("li", null, r)); });
    });
    var key = s.case_index + ":" + s.stage + ":" + s.phase;
    form.hidden = !s.can_answer;
    if (key !== formKey) {
      formKey = key;
      var mine = s.my_answer ? s.my_answer.picks : [];
      picks.forEach(function (p, i) { p.value = mine[i] ? byId[mine[i]].label : ""; });
      fillSubtypes();
      if (s.my_answer && s.my_answer.subtype) { subtype.value = s.my_answer.subtype; }
    }
    var res = clear(document.getElementById("results"));
    s.results.slice().reverse().forEach(function (r) {
      var sec = res.appendChild(el("section", "result"));
      sec.setAttribute("data-stage", String(r.stage));
      sec.appendChild(el("h2", null, "Stage " + (r.stage + 1) + ": engine vs you"));
      var ol = sec.appendChild(el("ol", "engine-top"));
      r.engine_top.forEach(function (d) { ol.appendChild(el("li", null, d.label + " " + d.shown)); });
      var mineList = sec.appendChild(el("ul", "mine"));
      r.score.picks.forEach(function (p) {
        mineList.appendChild(el("li", null, "Your " + p.yours + ". " + p.label + ": engine " + p.engine + " → " + p.points));
      });
      sec.appendChild(el("p", "score", "Your score: " + r.score.points + " of " + r.score.max));
      if (r.next_test) { sec.appendChild(el("p", "next", "Engine's next best test: " + r.next_test)); }
    });
    var ans = clear(document.getElementById("answer-box"));
    if (s.answer) {
      ans.appendChild(el("h2", null, "Answer"));
      ans.appendChild(el("p", "answer-key", s.answer.label ? "Answer key: " + s.answer.label + (s.answer.subtype_label ? " — " + s.answer.subtype_label : "") : "This case has no answer key."));
      ans.appendChild(el("p", "total", "Total: " + s.total.points + " of " + s.total.max + " (" + s.total.percent + "%)"));
      var tp = ans.appendChild(el("ul"));
      s.answer.teaching_points.forEach(function (p) { tp.appendChild(hx.line("li", p)); });
    }
    var whatif = document.getElementById("whatif");
    whatif.hidden = !(s.what_if_findings && s.what_if_findings.length);
    if (!whatif.hidden) {
      var sel = document.getElementById("whatif-finding");
      var wkey = s.results.length + ":" + s.what_if_findings.length;
      if (sel.getAttribute("data-key") !== wkey) {
        var keep = sel.value;
        clear(sel);
        s.what_if_findings.forEach(function (f) {
          sel.appendChild(el("option", null, f.label + " (now " + f.state + ")")).value = f.id;
        });
        if (keep) { sel.value = keep; }
        sel.setAttribute("data-key", wkey);
      }
    }
    if (selfStudy) {
      var atEnd = s.phase === "answer";
      next.hidden = atEnd || (s.phase === "open" && !s.my_answer);
      next.textContent = s.phase === "open" ? "Show the engine's view" : (s.phase === "intro" ? "Open stage 1" : (s.stage + 1 < s.stages ? "Next stage" : "Show the answer"));
    }
  }
  function refresh() {
    return hx.api("GET", base + "/state").then(function (s) {
      var text = JSON.stringify(s);
      if (text !== stateText) { stateText = text; render(s); }  // unchanged: keep the page as it is
    }).catch(function (e) {
      document.getElementById("status").textContent = e.status === 403 ? "Please join again." : "Reconnecting… (" + e.message + ")";
    });
  }
  picks[0].addEventListener("input", fillSubtypes);
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var error = document.getElementById("answer-error");
    error.textContent = "";
    var ids = [];
    for (var i = 0; i < picks.length; i++) {
      var v = picks[i].value.trim();
      if (!v) { continue; }
      var id = idOf(v);
      if (!id) { error.textContent = "'" + v + "' is not in the list: pick one of the suggestions."; return; }
      if (ids.indexOf(id) < 0) { ids.push(id); }
    }
    var body = {stage: state.stage, picks: ids, subtype: subtypeRow.hidden || !subtype.value ? null : subtype.value};
    hx.api("PUT", base + "/answer", body).then(function () { formKey = null; return refresh(); })
      .catch(function (e) { error.textContent = e.message; });
  });
  document.getElementById("whatif").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var out = clear(document.getElementById("whatif-result"));
    var stage = state.results.length - 1;
    hx.api("POST", base + "/whatif", {stage: stage, finding: document.getElementById("whatif-finding").value,
                                      state: document.getElementById("whatif-state").value})
      .then(function (r) {
        out.appendChild(el("p", "summary", "Stage " + (r.stage + 1) + ": " + r.summary));
        var ol = out.appendChild(el("ol"));
        r.top.forEach(function (d) {
          var sign = d.delta_pp > 0 ? "▲ +" : (d.delta_pp < 0 ? "▼ " : "");
          ol.appendChild(el("li", null, d.label + ": " + d.before + " → " + d.after + (sign ? " (" + sign + Math.abs(d.delta_pp) + " pp)" : "")));
        });
      })
      .catch(function (e) { out.appendChild(el("p", "error", e.message)); });
  });
  next.addEventListener("click", function () {
    hx.api("POST", base + "/advance").then(refresh).catch(function (e) { document.getElementById("status").textContent = e.message; });
  });
  refresh();
  setInterval(refresh, 2000);
})();
