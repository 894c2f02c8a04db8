// Big-screen leaderboard: polls the round's JSON every second and redraws the list without reloading.
(function () {
  "use strict";
  var root = document.getElementById("leaderboard");
  if (!root) { return; }
  var url = root.getAttribute("data-url");
  var list = document.getElementById("lb-rows");
  var submitted = document.getElementById("lb-submitted");
  var total = document.getElementById("lb-total");
  var last = "";

  function span(cls, text) {
    var s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    return s;
  }

  function render(data) {
    submitted.textContent = data.submitted;
    total.textContent = data.total;
    var waiting = document.getElementById("lb-waiting");
    if (waiting) { waiting.hidden = data.rows.length > 0; }
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

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { render(data); } })
      .catch(function () {})
      .finally(function () { window.setTimeout(poll, 1000); });
  }
  window.setTimeout(poll, 1000);
}());
