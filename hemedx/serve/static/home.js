"use strict";
(function () {
  var params = new URLSearchParams(location.search);
  var code = document.getElementById("code");
  if (params.get("code")) { code.value = params.get("code"); document.getElementById("nickname").focus(); }
  document.getElementById("join").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var error = document.getElementById("join-error");
    error.textContent = "";
    hx.api("POST", "/api/join", {code: code.value, nickname: document.getElementById("nickname").value})
      .then(function (r) { location.href = r.url; })
      .catch(function (e) { error.textContent = e.message; });
  });
  document.querySelectorAll("button.self").forEach(function (b) {
    b.addEventListener("click", function () {
      hx.api("POST", "/api/self", {case: b.getAttribute("data-case")})
        .then(function (r) { location.href = r.url; })
        .catch(function (e) { document.getElementById("join-error").textContent = e.message; });
    });
  });
})();
