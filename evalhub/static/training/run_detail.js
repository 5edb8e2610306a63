// A training run's live curves, status and checkpoint panel.
(function () {
  const liveUrl = document.getElementById("training-status").dataset.liveUrl;
  const charts = {
    "chart-loss": ["loss", "Loss (per trained token)"],
    "chart-lr": ["lr", "Learning rate"],
    "chart-epoch": ["epoch", "Epoch"],
    "chart-tokens": ["tokens_per_s", "Tokens / s"],
    "chart-eta": ["eta_s", "ETA (s)"],
  };
  const data = {step: []};
  Object.values(charts).forEach(([key]) => { data[key] = []; });
  let lastStep = 0;
  let panelState = JSON.stringify(JSON.parse(document.getElementById("panel-state").textContent));
  function draw() {
    for (const [id, [key, title]] of Object.entries(charts)) {
      Plotly.react(id, [{x: data.step, y: data[key], mode: "lines", name: key}],
        {title: {text: title}, height: 260, margin: {t: 40, r: 10, b: 40, l: 60}, xaxis: {title: {text: "step"}}},
        {displayModeBar: false, responsive: true});
    }
  }
  function formatEta(seconds) {
    if (seconds === undefined) return "-";
    const s = Math.round(seconds);
    return s >= 3600 ? `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`
      : s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
  }
  async function poll() {
    let finished = false;
    try {
      const response = await fetch(`${liveUrl}?after=${lastStep}`, {credentials: "same-origin"});
      const live = await response.json();
      const c = live.curves;
      for (const key of Object.keys(data)) data[key].push(...(c[key] || []));
      if (c.step.length) lastStep = c.step[c.step.length - 1];
      draw();
      const t = live.training;
      if (t) {
        const stopping = t.cancel_requested && !t.finished;
        document.getElementById("job-status").textContent = t.label + (stopping ? " (stop requested)" : "");
        const cancel = document.getElementById("cancel-form");
        if (cancel) cancel.hidden = t.finished || t.cancel_requested;
        const bar = document.getElementById("job-progress");
        bar.max = t.total || 1; bar.value = t.done;
        document.getElementById("job-note").textContent = t.note;
        const err = document.getElementById("job-error");
        err.textContent = t.error; err.hidden = !t.error;
        finished = t.finished && (!live.selection || live.selection.finished);
      }
      // New checkpoints, scores, a proposal or a selection state: refresh the panel from the
      // page itself, so the table keeps one template (and its forms their CSRF tokens).
      const state = JSON.stringify(live.panel);
      if (state !== panelState) {
        const html = await (await fetch(location.href, {credentials: "same-origin"})).text();
        const fresh = new DOMParser().parseFromString(html, "text/html");
        document.getElementById("checkpoint-panel").replaceWith(fresh.getElementById("checkpoint-panel"));
        panelState = state;
      }
      const s = live.selection;
      if (s && document.getElementById("selection-status")) {
        document.getElementById("selection-status").textContent = s.label;
        document.getElementById("selection-note").textContent = s.note;
      }
      const etas = data.eta_s;
      document.getElementById("eta").textContent = t && t.finished ? "-" : formatEta(etas[etas.length - 1]);
    } catch (e) { /* the next poll tries again */ }
    if (!finished) setTimeout(poll, 2000);
    document.body.dataset.liveSteps = String(lastStep);
  }
  draw();
  poll();
})();
