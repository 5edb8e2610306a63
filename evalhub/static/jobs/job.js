// The job page's live progress: polls the job's status JSON until it finishes.
(function () {
  "use strict";
  var box = document.getElementById("job");
  var labels = {queued: "Queued", running: "Running", succeeded: "Succeeded", failed: "Failed", cancelled: "Cancelled"};
  function show(s) {
    document.getElementById("job-status").textContent = labels[s.status] || s.status;
    var bar = document.getElementById("job-progress");
    bar.max = s.total || 1;
    bar.value = s.done;
    document.getElementById("job-count").textContent = s.done + " / " + s.total;
    document.getElementById("job-note").textContent = s.note;
    document.getElementById("job-cancel-note").hidden = !(s.cancel_requested && !s.finished);
    document.getElementById("job-error").textContent = s.error;
    document.getElementById("job-error-box").hidden = !s.error;
    if (s.result && Object.keys(s.result).length) {
      document.getElementById("job-result").textContent = JSON.stringify(s.result, null, 1);
      document.getElementById("job-result-box").hidden = false;
    }
    var waiting = document.getElementById("job-waiting");
    waiting.hidden = !s.waiting;
    if (s.waiting) {
      waiting.replaceChildren("Waiting: " + s.waiting.replace(/`[^`]*`$/, ""));
      var code = document.createElement("code");
      code.textContent = s.waiting.replace(/^.*`([^`]*)`$/, "$1");
      waiting.append(code, ". Start one with ");
      var cmd = document.createElement("code");
      cmd.textContent = "celery -A evalhub worker -Q " + code.textContent;
      waiting.append(cmd, ".");
    }
    var form = document.getElementById("job-cancel-form");
    if (form && s.finished) { form.hidden = true; }
  }
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (s) { show(s); if (!s.finished) { setTimeout(poll, 1000); } })
      .catch(function () { setTimeout(poll, 5000); });
  }
  poll();
})();
