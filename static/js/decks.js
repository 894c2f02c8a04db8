// Pitch deck upload straight from the browser to the file store (S3 presigned POST), with a
// progress bar. Without JavaScript (or without XMLHttpRequest upload events) the same form posts
// the file to the platform, which streams it on to the store.
(function () {
  "use strict";
  var form = document.getElementById("deck-form");
  if (!form || !window.FormData || !window.XMLHttpRequest || !("upload" in new XMLHttpRequest())) {
    return;
  }
  var input = document.getElementById("deck-file");
  var button = document.getElementById("deck-upload");
  var progress = document.getElementById("deck-progress");
  var bar = document.getElementById("deck-progress-bar");
  var statusLine = document.getElementById("deck-status");
  var errorBox = document.getElementById("deck-error");
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var maxBytes = parseInt(form.dataset.maxBytes, 10);

  function showError(message) {
    errorBox.textContent = message || form.dataset.msgFailed;
    errorBox.classList.remove("d-none");
    statusLine.classList.add("d-none");
    button.disabled = false;
    input.disabled = false;
  }

  function setProgress(percent) {
    percent = Math.max(0, Math.min(100, Math.round(percent)));
    bar.style.width = percent + "%";  // CSSOM, allowed by the CSP (no style attribute in markup)
    bar.textContent = percent + " %";
    progress.setAttribute("aria-valuenow", String(percent));
  }

  function postToApp(url, data, done) {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.onload = function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if (xhr.status >= 200 && xhr.status < 300 && body) { done(body); }
      else { showError(body && body.error); }
    };
    xhr.onerror = function () { showError(form.dataset.msgNetwork); };
    data.append("csrf_token", csrf);
    xhr.send(data);
  }

  function uploadToStore(ticket, file) {
    var data = new FormData();
    Object.keys(ticket.fields).forEach(function (name) { data.append(name, ticket.fields[name]); });
    data.append("file", file);  // the file must be the last field of a presigned POST
    var xhr = new XMLHttpRequest();
    xhr.open("POST", ticket.url);
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) { setProgress(event.loaded * 100 / event.total); }
    };
    xhr.onload = function () {
      if (xhr.status < 200 || xhr.status >= 300) { showError(form.dataset.msgRefused); return; }
      setProgress(100);
      statusLine.textContent = form.dataset.msgChecking;
      statusLine.classList.remove("d-none");
      var confirmData = new FormData();
      confirmData.append("ticket_id", String(ticket.ticket_id));
      postToApp(ticket.confirm_url, confirmData, function (body) {
        window.location.assign(body.redirect);
      });
    };
    xhr.onerror = function () { showError(form.dataset.msgNetwork); };
    xhr.send(data);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    errorBox.classList.add("d-none");
    var file = input.files && input.files[0];
    if (!file) { showError(form.dataset.msgChoose); return; }
    if (!/\.(pdf|pptx)$/i.test(file.name)) { showError(form.dataset.msgWrongType); return; }
    if (file.size > maxBytes) { showError(form.dataset.msgTooLarge); return; }
    button.disabled = true;
    input.disabled = true;
    progress.classList.remove("d-none");
    setProgress(0);
    var data = new FormData();
    data.append("filename", file.name);
    data.append("size", String(file.size));
    postToApp(form.dataset.ticketUrl, data, function (ticket) { uploadToStore(ticket, file); });
  });
})();
