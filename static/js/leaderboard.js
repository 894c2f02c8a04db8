// Big-screen leaderboard: polls the round's JSON every second and redraws the list without reloading.
// When no answer has come for a few seconds (network gone, or a login page instead of JSON), it says
// so on the screen rather than showing old results as if they were current; a link that no longer
// works (withdrawn, or past its hours) says that instead.
(function () {
  "use strict";
  var root = document.getElementById("leaderboard");
  if (!root) { return; }
  var url = root.getAttribute("data-url");
  var list = document.getElementById("lb-rows");
  var submitted = document.getElementById("lb-submitted");
  var total = document.getElementById("lb-total");
  var last = "";
  var lastAnswer = Date.now();
  var offline = document.getElementById("lb-offline");
  var OFFLINE_AFTER_MS = 5000;

  function span(cls, text) {
    var s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    return s;
  }

  function render(data) {
    submitted.textContent = data.submitted;
    total.textContent = data.total;
    document.getElementById("lb-waiting").hidden = data.rows.length > 0;
    var key = JSON.stringify(data.rows);
    if (key === last) { return; }
    last = key;
    while (list.firstChild) { list.removeChild(list.firstChild); }
    data.rows.forEach(function (row) {
      var li = document.createElement("li");
      li.appendChild(span("lb-rank", String(row.rank)));
      li.appendChild(span("lb-project", row.project));
      li.appendChild(span("lb-track", row.track));
      if (row.score !== undefined) { li.appendChild(span("lb-score", row.score.toFixed(2))); }
      list.appendChild(li);
    });
  }

  var gone = false;

  // The link was withdrawn by the organisers, or its hours are over: it will not work again, so the
  // screen says so and stops asking, instead of showing old results as if they were current.
  function withdrawn() {
    gone = true;
    while (list.firstChild) { list.removeChild(list.firstChild); }
    document.getElementById("lb-waiting").hidden = true;
    offline.hidden = true;
    document.getElementById("lb-withdrawn").hidden = false;
  }

  // A poll that gets no answer (the hall's Wi-Fi roams, a proxy hangs) is given up after 2 s, so the
  // next one still goes and the offline notice can show.
  var POLL_TIMEOUT_MS = 2000;

  function poll() {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, POLL_TIMEOUT_MS) : null;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" },
                 signal: controller ? controller.signal : undefined })
      .then(function (r) {
        if (r.status === 404) { withdrawn(); return null; }
        var json = r.ok && (r.headers.get("Content-Type") || "").indexOf("application/json") === 0;
        return json ? r.json() : null;
      })
      .then(function (data) {
        if (data) { lastAnswer = Date.now(); render(data); }
      })
      .catch(function () {})
      .finally(function () {
        if (timer) { window.clearTimeout(timer); }
        if (gone) { return; }
        offline.hidden = Date.now() - lastAnswer < OFFLINE_AFTER_MS;
        window.setTimeout(poll, 1000);
      });
  }
  window.setTimeout(poll, 1000);
}());
