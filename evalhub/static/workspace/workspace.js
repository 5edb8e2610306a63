// The researcher workspace: drag-and-drop uploads, the new-study plan, the live monitor,
// copy buttons and the LLM judge's estimate. No inline script anywhere (strict CSP).
(function () {
  "use strict";

  function dropzone() {
    const zone = document.getElementById("dropzone");
    if (!zone) return;
    const input = zone.querySelector("input[type=file]");
    ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (event) => {
      event.preventDefault(); zone.classList.add("over");
    }));
    ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, () => zone.classList.remove("over")));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) input.files = event.dataTransfer.files;
    });
  }

  function studyPlan() {
    const form = document.getElementById("study-form");
    if (!form) return;
    const fields = ["kind", "prompt_set", "target_model", "raters_per_item", "attention_check_rate",
      "session_quota", "reservation_minutes", "interval_width"];
    let timer = null;
    function text(id, value) { document.getElementById(id).textContent = value; }
    async function refresh() {
      const query = new URLSearchParams();
      fields.forEach((name) => { const el = form.elements[name]; if (el && el.value !== "") query.append(name, el.value); });
      form.querySelectorAll("input[name=baselines]:checked").forEach((el) => query.append("baselines", el.value));
      const error = document.getElementById("plan-error");
      if (!form.elements.prompt_set.value || !form.elements.target_model.value) { error.hidden = true; return; }
      try {
        const response = await fetch(form.dataset.planUrl + "?" + query, { headers: { Accept: "application/json" } });
        const plan = await response.json();
        if (!response.ok) {
          error.textContent = Object.entries(plan.errors || {}).map(([k, v]) => k + ": " + v.join(" ")).join("; ");
          error.hidden = false; return;
        }
        error.hidden = true;
        text("plan-covered", plan.covered + " of " + plan.prompts);
        text("plan-left-out", plan.left_out.length);
        text("plan-items", plan.items + (plan.gold_items ? " + " + plan.gold_items + " checks" : ""));
        text("plan-judgments", plan.judgments_needed);
        text("plan-needed", plan.planner.prompts_needed);
        const body = document.getElementById("plan-coverage");
        body.replaceChildren(...plan.coverage.map((row) => {
          const tr = document.createElement("tr");
          [row.model, row.outputs, row.missing].forEach((value, i) => {
            const td = document.createElement("td"); td.textContent = value; if (i) td.className = "num"; tr.append(td);
          });
          return tr;
        }));
        const list = plan.left_out.slice(0, 30).join(", ") + (plan.left_out.length > 30 ? ", …" : "");
        text("plan-left-out-list", plan.left_out.length
          ? "Left out (no output from every chosen model): " + list
          : "");
        if (plan.covered === 0) {
          error.textContent = "No prompt has an output from every chosen model: the study cannot launch.";
          error.hidden = false;
        }
        if (window.Plotly) {
          const p = plan.planner;
          Plotly.react("chart-planner", [
            { x: p.widths, y: p.curve, mode: "lines", name: "prompts needed" },
            { x: [p.interval_width], y: [p.prompts_needed], mode: "markers", name: "chosen width", marker: { size: 10 } },
            { x: [p.widths[0], p.widths[p.widths.length - 1]], y: [plan.covered, plan.covered], mode: "lines",
              name: "prompts in this study", line: { dash: "dot" } },
          ], { height: 280, margin: { t: 10, r: 10, b: 45, l: 60 }, yaxis: { type: "log", title: { text: "prompts" } },
               xaxis: { title: { text: "95% interval width (win share)" } } }, { displayModeBar: false, responsive: true });
        }
      } catch (e) { /* the next change tries again */ }
    }
    form.addEventListener("change", () => { clearTimeout(timer); timer = setTimeout(refresh, 150); });
    form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(refresh, 400); });
    refresh();
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "-";
    const s = Math.round(seconds);
    if (s >= 3600) return Math.floor(s / 3600) + " h " + Math.round((s % 3600) / 60) + " min";
    if (s >= 60) return Math.floor(s / 60) + " min";
    return s + " s";
  }

  function monitor() {
    const box = document.getElementById("monitor");
    if (!box) return;
    function show(m) {
      box.querySelectorAll("[data-key]").forEach((el) => {
        const value = m[el.dataset.key];
        el.textContent = el.dataset.format === "duration" ? duration(value) : value;
      });
      const bar = document.getElementById("monitor-progress");
      bar.max = m.judgments_needed || 1; bar.value = m.judgments_done;
      box.dataset.judgments = String(m.judgments_done);
    }
    async function poll() {
      try {
        const response = await fetch(box.dataset.url, { headers: { Accept: "application/json" } });
        if (response.ok) show(await response.json());
      } catch (e) { /* try again on the next tick */ }
      setTimeout(poll, 3000);
    }
    poll();
  }

  function copyButtons() {
    document.querySelectorAll("[data-copy]").forEach((button) => button.addEventListener("click", async () => {
      const input = document.getElementById(button.dataset.copy);
      input.select();
      try { await navigator.clipboard.writeText(input.value); } catch (e) { document.execCommand("copy"); }
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = "Copy"; }, 1500);
    }));
  }

  function judgeEstimate() {
    const box = document.getElementById("llm-judge");
    if (!box) return;
    const select = box.querySelector("select[name=judge]");
    const out = document.getElementById("judge-estimate");
    async function refresh() {
      if (!select.value) return;
      out.textContent = "Estimating…";
      const response = await fetch(box.dataset.estimateUrl + "?judge=" + encodeURIComponent(select.value));
      const e = await response.json();
      out.textContent = response.ok
        ? e.calls + " calls, ~" + e.tokens_in + " tokens in and ~" + e.tokens_out + " out; estimated $" + e.cost_usd
          + (e.priced ? "" : " (no price row for this model)") + "; " + e.already_judged + " verdicts already in."
        : e.error;
      out.dataset.ready = "1";
    }
    select.addEventListener("change", refresh);
    refresh();
  }

  dropzone(); studyPlan(); monitor(); copyButtons(); judgeEstimate();
})();
