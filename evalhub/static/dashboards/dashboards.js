/* EvalHub dashboards: draws a study's results (or the global leaderboard) with plotly.js
 * and keeps the charts current by polling the JSON endpoint; Plotly.react redraws in place. */
(function () {
  "use strict";

  const COLORS = {
    win: "#3f6fa6", tie: "#c4cad3", loss: "#d39064",
    fail: "#c96a6a", pass: "#c4cad3", excellent: "#5a9e6f",
    ink: "#1f2328", muted: "#656d76", grid: "#e6e9ed",
  };
  const FONT = { family: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif', size: 13, color: COLORS.ink };
  const pct = (x) => (x === null || x === undefined ? "–" : (100 * x).toFixed(0) + "%");
  const pct1 = (x) => (x === null || x === undefined ? "–" : (100 * x).toFixed(1) + "%");
  const num = (x, d = 2) => (x === null || x === undefined ? "–" : Number(x).toFixed(d));

  // The study page's settings sit on #dashboard; the overview has none.
  const settings = () => (document.getElementById("dashboard") || document.body).dataset;

  function baseLayout(extra) {
    return Object.assign({
      font: FONT, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      margin: { l: 200, r: 24, t: 10, b: 44 }, hoverlabel: { font: { family: FONT.family } },
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", traceorder: "normal" },
    }, extra || {});
  }

  function config(name) {
    const filename = (settings().exportName || "evalhub") + "-" + name;
    return {
      displaylogo: false, responsive: true,
      toImageButtonOptions: { format: "png", filename: filename, scale: 2 },
      modeBarButtonsToRemove: ["lasso2d", "select2d"],
      modeBarButtonsToAdd: [{
        name: "Download plot as SVG", icon: Plotly.Icons.disk,
        click: (gd) => Plotly.downloadImage(gd, { format: "svg", filename: filename }),
      }],
    };
  }

  // Paper size: a two-column figure at 150 px per inch (6.7 x 3.3 in); PNG at 3x (450 dpi).
  const PAPER = { width: 1000, height: 500 };

  /* Every figure downloads as SVG or PNG, redrawn at paper size on white with larger type. */
  async function exportFigure(el, format) {
    const layout = Object.assign({}, el.layout, {
      width: PAPER.width, height: Math.max(PAPER.height, el.layout.height || 0),
      paper_bgcolor: "#ffffff", plot_bgcolor: "#ffffff",
      font: Object.assign({}, FONT, { size: 16 }),
    });
    const url = await Plotly.toImage({ data: el.data, layout: layout },
      { format: format, width: layout.width, height: layout.height, scale: format === "png" ? 3 : 1 });
    const link = document.createElement("a");
    link.href = url;
    link.download = (settings().exportName || "evalhub") + "-" + el.id.replace(/^chart-/, "") + "." + format;
    document.body.append(link);
    link.click();
    link.remove();
  }

  function exportButtons(el) {
    if (el.dataset.exports) return;
    el.dataset.exports = "1";
    const bar = document.createElement("div");
    bar.className = "chart-actions";
    ["svg", "png"].forEach((format) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button";
      button.dataset.export = format;
      button.textContent = format.toUpperCase();
      button.setAttribute("aria-label", "Download " + el.id.replace(/^chart-/, "") + " as " + format.toUpperCase());
      button.addEventListener("click", () => exportFigure(el, format));
      bar.append(button);
    });
    el.before(bar);
  }

  function draw(id, traces, layout) {
    const el = document.getElementById(id);
    if (!el) return;
    const empty = !traces || traces.length === 0;
    const card = el.closest("[data-chart-card]");
    if (card) card.classList.toggle("is-empty", empty);
    if (empty) { Plotly.purge(el); return; }
    Plotly.react(el, traces, baseLayout(layout), config(id));
    exportButtons(el);
  }

  /* The rows behind one win / tie / loss count: the workspace answers with the list that
   * yields exactly that count (a human group's judgments, an LLM group's items). */
  const SEGMENT_VERDICT = ["target", "tie", "baseline"];
  /* verdict "any": the row's total. model: the rated model of an absolute study's row. */
  function countedUrl(baseline, group, verdict, category, model) {
    const query = new URLSearchParams({ judge_group: group, verdict: verdict });
    if (baseline) query.set("baseline", baseline);
    if (model) query.set("model", model);
    const chosen = document.querySelector("#filters select[name=category]");
    category = category || (chosen && chosen.value);
    if (category) query.set("category", category);
    return settings().countedUrl + "?" + query.toString();
  }

  /* A counts cell: "31 / 4 / 40 (41% / 5% / 53%)", each count a link (when `url` gives one)
   * labelled in words for screen readers. parts: [label, count, share, url or null]. */
  function countsCell(td, parts, what) {
    parts.forEach(([label, n, , url], k) => {
      if (k) td.append(" / ");
      if (!url) { td.append(String(n)); return; }
      const link = document.createElement("a");
      link.href = url;
      link.textContent = String(n);
      link.setAttribute("aria-label", `${n} ${label} ${what}`);
      td.append(link);
    });
    td.append(` (${parts.map((p) => pct(p[2])).join(" / ")})`);
  }

  /* A click on a bar or point that shows a count opens the rows it counts: `urlFor(curve,
   * index)` gives the list (or null where the point counts no rows). The latest drawing's
   * urlFor is kept on the element, so one listener serves every redraw. */
  const rowsOf = new WeakMap();
  function openRowsOnClick(id, urlFor) {
    const el = document.getElementById(id);
    if (!el || !el.on) return;  // el.on: plotly has drawn it
    rowsOf.set(el, urlFor);
    el.classList.add("clickable");
    if (el.dataset.clickable) return;
    el.dataset.clickable = "1";
    el.on("plotly_click", (event) => {
      const point = event.points && event.points[0];
      const url = point && rowsOf.get(el)(point.curveNumber, point.pointIndex);
      if (url) window.location.assign(url);
    });
  }

  function openJudgmentsOnClick(rows) {
    if (!settings().countedUrl) return;
    openRowsOnClick("chart-wtl", (curve, k) => (curve > 2 ? null
      : countedUrl(rows[k].baseline, rows[k].judge_group, SEGMENT_VERDICT[curve])));
  }

  /* A link to the workspace's judgments list, with the dashboard's category filter. */
  function judgmentsUrl(params) {
    const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v));
    const chosen = document.querySelector("#filters select[name=category]");
    if (chosen && chosen.value && !query.has("category")) query.set("category", chosen.value);
    return settings().judgmentsUrl + "?" + query.toString();
  }

  function itemsUrl(params) {
    const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v));
    const chosen = document.querySelector("#filters select[name=category]");
    if (chosen && chosen.value) query.set("category", chosen.value);
    return settings().itemsUrl + "?" + query.toString();
  }

  function linkTo(url, text, label) {
    const link = document.createElement("a");
    link.href = url;
    link.textContent = text;
    link.setAttribute("aria-label", label);
    return link;
  }

  /* The counts table under the chart: "31 / 4 / 40 (41% / 5% / 53%)", each count a link. */
  function countsTable(rows) {
    const body = document.querySelector("#wtl-counts tbody");
    if (!body) return;
    body.replaceChildren(...rows.map((r) => {
      const tr = document.createElement("tr");
      tr.dataset.baseline = r.baseline;
      tr.dataset.group = r.judge_group;
      const cell = (text, className) => {
        const td = document.createElement("td");
        td.textContent = text;
        if (className) td.className = className;
        tr.append(td);
        return td;
      };
      cell(r.baseline);
      cell(r.judge_group);
      const url = (verdict) => countedUrl(r.baseline, r.judge_group, verdict);
      countsCell(cell(""), [["wins", r.wins, r.win_share, url("target")],
        ["ties", r.ties, r.tie_share, url("tie")], ["losses", r.losses, r.loss_share, url("baseline")]],
        `against ${r.baseline} by ${r.judge_group}`);
      cell("", "num").append(linkTo(url("any"), String(r.n_judgments),
        `${r.n_judgments} counted against ${r.baseline} by ${r.judge_group}`));
      return tr;
    }));
  }

  /* LIMA Figure 1 / 2: stacked win / tie / loss per baseline, judge groups side by side. */
  function winTieLoss(rows) {
    if (!rows.length) { countsTable([]); return draw("chart-wtl", []); }
    const humanWin = {};
    rows.forEach((r) => {
      if (r.judge_kind === "human") humanWin[r.baseline] = Math.max(humanWin[r.baseline] || 0, r.win_share);
    });
    const baselines = [...new Set(rows.map((r) => r.baseline))].sort(
      (a, b) => (humanWin[b] ?? -1) - (humanWin[a] ?? -1) || a.localeCompare(b));
    const sorted = rows.slice().sort((a, b) =>
      baselines.indexOf(a.baseline) - baselines.indexOf(b.baseline)
      || (a.judge_kind === b.judge_kind ? a.judge_group.localeCompare(b.judge_group) : a.judge_kind === "human" ? -1 : 1));
    const y = sorted.map((r) => [r.baseline, r.judge_group]);
    const yCat = [sorted.map((r) => r.baseline), sorted.map((r) => r.judge_group)];
    // Counts beside the percentages: "31 / 4 / 40 (41% / 5% / 53%)".
    const hover = (r) => `${r.baseline} · ${r.judge_group}<br>win / tie / loss ${r.wins} / ${r.ties} / ${r.losses}`
      + ` (${pct(r.win_share)} / ${pct(r.tie_share)} / ${pct(r.loss_share)})`
      + `<br>win ${pct1(r.win_share)} [${pct1(r.win_interval.low)}, ${pct1(r.win_interval.high)}]`
      + `<br>equivalent or preferred ${pct1(r.equivalent_or_preferred)} [${pct1(r.equivalent_or_preferred_interval.low)}, ${pct1(r.equivalent_or_preferred_interval.high)}]`
      + `<br>sign test p = ${num(r.sign_test_p_value, 3)} · n = ${r.n_judgments} on ${r.n_prompts} prompts`
      + `<br>click: open these judgments<extra></extra>`;
    const seg = (name, key, color) => ({
      type: "bar", orientation: "h", name: name, y: yCat, x: sorted.map((r) => 100 * r[key]),
      marker: { color: color, line: { color: "#fff", width: 1 } }, text: sorted.map((r) => pct(r[key])),
      textposition: "inside", insidetextanchor: "middle", hovertemplate: sorted.map(hover),
    });
    const whisker = (name, key, ivKey) => ({
      type: "scatter", mode: "markers", name: name, y: yCat, showlegend: false, hoverinfo: "skip",
      x: sorted.map((r) => 100 * r[key]), marker: { size: 1, color: COLORS.ink },
      error_x: { type: "data", symmetric: false, thickness: 1.2, width: 3, color: "rgba(31,35,40,.55)",
        array: sorted.map((r) => 100 * (r[ivKey].high - r[key])),
        arrayminus: sorted.map((r) => 100 * (r[key] - r[ivKey].low)) },
    });
    const target = settings().target || "target";
    draw("chart-wtl", [
      seg(`${target} wins`, "win_share", COLORS.win), seg("Tie", "tie_share", COLORS.tie),
      seg(`Baseline wins`, "loss_share", COLORS.loss),
      whisker("win 95% CI", "win_share", "win_interval"),
      whisker("equivalent or preferred 95% CI", "equivalent_or_preferred", "equivalent_or_preferred_interval"),
    ], {
      barmode: "stack", height: 70 + 34 * y.length, bargap: 0.25,
      xaxis: { range: [0, 100], ticksuffix: "%", gridcolor: COLORS.grid, zeroline: false },
      yaxis: { autorange: "reversed", automargin: true },
      margin: { l: 40, r: 24, t: 30, b: 36 },
    });
    openJudgmentsOnClick(sorted);
    countsTable(sorted);
  }

  const METRICS = {
    tie_discounted_accuracy: "Tie-discounted accuracy", percent_agreement: "Exact agreement",
    cohen_kappa: "Cohen's κ", krippendorff_alpha: "Krippendorff's α",
  };

  function agreement(matrix) {
    const select = document.getElementById("agreement-metric");
    if (!matrix) return draw("chart-agreement", []);
    let metric = select ? select.value : "tie_discounted_accuracy";
    if (!matrix[metric]) metric = "percent_agreement";
    const z = matrix[metric];
    const groups = matrix.groups;
    const text = z.map((row, i) => row.map((v, j) => (v === null ? "–" : num(v)) ));
    const hover = z.map((row, i) => row.map((v, j) =>
      `${groups[i]} vs ${groups[j]}<br>${METRICS[metric]} ${v === null ? "–" : num(v, 3)}<br>${matrix.n_items[i][j]} shared items<extra></extra>`));
    draw("chart-agreement", [{
      type: "heatmap", x: groups, y: groups, z: z, text: text, texttemplate: "%{text}",
      hovertemplate: hover, zmin: metric.includes("kappa") || metric.includes("alpha") ? -1 : 0, zmax: 1,
      colorscale: [[0, "#f7f4ef"], [0.5, "#c9d8ea"], [1, "#3f6fa6"]], xgap: 2, ygap: 2,
      colorbar: { thickness: 10, outlinewidth: 0 },
    }], {
      // automargin: judge group names ("llm:<judge slug>") are long; never clip them.
      height: 120 + 48 * groups.length, margin: { l: 20, r: 20, t: 10, b: 20 },
      yaxis: { autorange: "reversed", automargin: true }, xaxis: { side: "bottom", automargin: true },
    });
  }

  /* Fail / Pass / Excellent counts under a labels chart; a dialogue's count labelled turns,
   * which no list of judgments yields, so they stay plain numbers. */
  const LABELS = [["Fail", "fail"], ["Pass", "pass"], ["Excellent", "excellent"]];
  function labelCounts(tableId, rows, key) {
    const body = document.querySelector(`#${tableId} tbody`);
    if (!body) return;
    const linked = settings().kind !== "dialogue";
    body.replaceChildren(...rows.map((r) => {
      const tr = document.createElement("tr");
      tr.dataset.key = r[key];
      tr.dataset.group = r.judge_group;
      [r[key], r.judge_group].forEach((text) => {
        const td = document.createElement("td"); td.textContent = text; tr.append(td);
      });
      const td = document.createElement("td");
      const category = key === "category" ? r.category : "";
      const model = key === "model" ? r.model : "";
      countsCell(td, LABELS.map(([label, verdict], k) => [label, r.shares[k].count, r.shares[k].share,
        linked ? countedUrl("", r.judge_group, verdict, category, model) : null]), `for ${r[key]} by ${r.judge_group}`);
      const n = document.createElement("td"); n.className = "num";
      if (linked) n.append(linkTo(countedUrl("", r.judge_group, "any", category, model), String(r.n_ratings),
        `${r.n_ratings} ratings for ${r[key]} by ${r.judge_group}`));
      else n.textContent = String(r.n_ratings);
      tr.append(td, n);
      return tr;
    }));
  }

  function labelBars(id, rows, key) {
    labelCounts(id === "chart-labels" ? "label-counts" : "label-counts-category", rows, key);
    if (!rows.length) return draw(id, []);
    const y = [rows.map((r) => r[key]), rows.map((r) => r.judge_group)];
    const traces = ["Fail", "Pass", "Excellent"].map((label, k) => ({
      type: "bar", orientation: "h", name: label, y: y,
      x: rows.map((r) => 100 * r.shares[k].share), text: rows.map((r) => pct(r.shares[k].share)),
      textposition: "inside", insidetextanchor: "middle",
      marker: { color: [COLORS.fail, COLORS.pass, COLORS.excellent][k], line: { color: "#fff", width: 1 } },
      hovertemplate: rows.map((r) => `${r[key]} · ${r.judge_group}<br>${label} ${pct1(r.shares[k].share)} `
        + `[${pct1(r.shares[k].wilson.low)}, ${pct1(r.shares[k].wilson.high)}] (Wilson)<br>${r.shares[k].count} of ${r.n_ratings}<extra></extra>`),
    }));
    draw(id, traces, {
      barmode: "stack", height: 80 + 34 * rows.length, margin: { l: 40, r: 24, t: 30, b: 36 },
      xaxis: { range: [0, 100], ticksuffix: "%", gridcolor: COLORS.grid }, yaxis: { autorange: "reversed", automargin: true },
    });
    // A dialogue's shares count labelled turns, which no list yields: no click there.
    if (settings().kind !== "dialogue") {
      openRowsOnClick(id, (curve, k) => countedUrl("", rows[k].judge_group, LABELS[curve][1],
        key === "category" ? rows[k].category : "", key === "model" ? rows[k].model : ""));
    }
  }

  function likert(rows) {
    if (!rows.length) return draw("chart-likert", []);
    draw("chart-likert", [{
      type: "scatter", mode: "markers", y: [rows.map((r) => r.model), rows.map((r) => r.judge_group)],
      x: rows.map((r) => r.mean), marker: { size: 10, color: COLORS.win },
      error_x: { type: "data", symmetric: false, array: rows.map((r) => (r.high ?? r.mean) - r.mean),
        arrayminus: rows.map((r) => r.mean - (r.low ?? r.mean)), color: COLORS.win },
      hovertemplate: rows.map((r) => `${r.model} · ${r.judge_group}<br>mean ${num(r.mean)} [${num(r.low)}, ${num(r.high)}] (t over prompt means)`
        + `<br>bootstrap [${num(r.bootstrap.low)}, ${num(r.bootstrap.high)}]<br>${r.n_scores} scores, ${r.n_prompts} prompts`
        + `<br>click: open these judgments<extra></extra>`),
    }], {
      height: 80 + 40 * rows.length, margin: { l: 40, r: 24, t: 10, b: 40 },
      xaxis: { range: [1, 6], dtick: 1, gridcolor: COLORS.grid, title: { text: "Mean helpfulness (1–6), 95% t-interval" } },
      yaxis: { autorange: "reversed", automargin: true },
    });
    openRowsOnClick("chart-likert", (curve, k) => judgmentsUrl({
      judge_group: rows[k].judge_group, model: rows[k].model, counted: "yes" }));
  }

  function leaderboard(id, board) {
    if (!board || !board.models.length) return draw(id, []);
    const rows = board.models;
    draw(id, [{
      type: "scatter", mode: "markers", y: rows.map((r) => `#${r.rank} ${r.model}`), x: rows.map((r) => r.rating),
      marker: { size: 10, color: COLORS.win },
      error_x: { type: "data", symmetric: false, array: rows.map((r) => r.upper - r.rating),
        arrayminus: rows.map((r) => r.rating - r.lower), color: COLORS.win, thickness: 1.5 },
      hovertemplate: rows.map((r) => `${r.model}<br>rating ${num(r.rating, 0)} [${num(r.lower, 0)}, ${num(r.upper, 0)}]`
        + `<br>rank ${r.rank} · ${r.n_battles} battles<extra></extra>`),
    }], {
      height: 80 + 34 * rows.length, margin: { l: 40, r: 24, t: 10, b: 44 },
      xaxis: { gridcolor: COLORS.grid, title: { text: `Bradley–Terry rating (95% bootstrap CI, ${board.rounds} rounds)` } },
      yaxis: { autorange: "reversed", automargin: true },
    });
  }

  function bias(panel, full) {
    const pos = panel.position || [];
    draw("chart-position", pos.length ? [{
      type: "scatter", mode: "markers", y: pos.map((r) => r.judge_group), x: pos.map((r) => r.first_win_rate),
      marker: { size: 10, color: COLORS.win },
      error_x: { type: "data", symmetric: false, color: COLORS.win,
        array: pos.map((r) => (r.interval.high ?? 0) - (r.first_win_rate ?? 0)),
        arrayminus: pos.map((r) => (r.first_win_rate ?? 0) - (r.interval.low ?? 0)) },
      hovertemplate: pos.map((r) => `${r.judge_group}<br>first shown wins ${pct1(r.first_win_rate)} of decisive`
        + `<br>${r.first_wins} vs ${r.second_wins}, ${r.ties} ties · p = ${num(r.p_value, 3)}<extra></extra>`),
    }] : [], {
      height: 90 + 36 * pos.length, margin: { l: 40, r: 20, t: 10, b: 44 },
      xaxis: { range: [0, 1], tickformat: ".0%", gridcolor: COLORS.grid, title: { text: "First-shown response wins" } },
      yaxis: { automargin: true },
      shapes: [{ type: "line", x0: 0.5, x1: 0.5, yref: "paper", y0: 0, y1: 1, line: { dash: "dot", color: COLORS.muted } }],
    });
    const swap = panel.swap_consistency || [];
    draw("chart-swap", swap.length ? [{
      type: "bar", orientation: "h", y: swap.map((r) => r.judge_group), x: swap.map((r) => r.rate),
      marker: { color: COLORS.excellent }, text: swap.map((r) => pct(r.rate)), textposition: "inside",
      error_x: { type: "data", symmetric: false, color: COLORS.ink,
        array: swap.map((r) => r.interval.high - r.rate), arrayminus: swap.map((r) => r.rate - r.interval.low) },
      hovertemplate: swap.map((r) => `${r.judge_group}<br>same verdict in both orders ${pct1(r.rate)} of ${r.n_items}`
        + `<br>flips ${r.flips} · favours first ${r.favours_first} · favours second ${r.favours_second}<extra></extra>`),
    }] : [], {
      height: 90 + 36 * swap.length, margin: { l: 40, r: 20, t: 10, b: 44 },
      xaxis: { range: [0, 1], tickformat: ".0%", gridcolor: COLORS.grid, title: { text: "LLM judge swap consistency" } },
      yaxis: { automargin: true },
    });
    const length = panel.length || [];
    draw("chart-length", length.map((r) => {
      const e = r.bins.edges;
      const lc = r.length_controlled_win_rate.map((v, i) => `${r.studies[i]}: LC ${pct1(v)} (raw ${pct1(r.raw_win_rate[i])})`).join("<br>");
      return {
        type: "scatter", mode: "lines+markers", name: r.judge_group,
        x: r.bins.preferred_rate.map((_, i) => (e[i] + e[i + 1]) / 2), y: r.bins.preferred_rate,
        hovertemplate: r.bins.n.map((n, i) => `${r.judge_group}<br>length diff ${num(e[i], 0)} to ${num(e[i + 1], 0)} chars`
          + `<br>preferred ${pct1(r.bins.preferred_rate[i])} of ${n}<br>${lc}<extra></extra>`),
      };
    }), {
      height: 300, margin: { l: 60, r: 20, t: 30, b: 50 },
      xaxis: { title: { text: "Target minus baseline length (characters, bin centre)" }, gridcolor: COLORS.grid, zeroline: true },
      yaxis: { range: [0, 1], tickformat: ".0%", gridcolor: COLORS.grid, title: { text: "Target preferred" } },
    });
    const lcTable = document.getElementById("length-controlled");
    if (lcTable) {
      lcTable.innerHTML = "";
      const lcOf = {};
      (full.length_controlled || []).forEach((r) => { lcOf[`${r.judge_group}|${r.baseline}`] = r; });
      (full.weighted || []).forEach((w) => {
        const lc = lcOf[`${w.judge_group}|${w.baseline}`];
        const tr = document.createElement("tr");
        const cells = [
          w.judge_group, w.baseline, pct1(w.discrete_win_rate),
          `${pct1(w.win_rate)} ± ${pct1(w.standard_error)}`,
          `${pct1(w.interval.low)} to ${pct1(w.interval.high)}`,
          lc ? pct1(lc.length_controlled_win_rate) : "n/a",
          !lc ? "too few judgments"
            : !lc.formula ? (lc.updating ? "updating (a worker is fitting it)" : "not fitted")
            : lc.formula + (lc.extreme_change ? " (likely GLM failure)" : "")
              + (lc.current === false ? (lc.updating ? " (last fit; updating)" : " (last fit)") : ""),
        ];
        cells.forEach((v, k) => {
          const td = document.createElement("td"); td.textContent = v;
          if (k >= 2 && k <= 5) td.className = "num";
          if (k === 6 && lc) td.title = lc.formula_note;
          tr.appendChild(td);
        });
        lcTable.appendChild(tr);
      });
    }
  }

  function progress(p) {
    const bar = document.getElementById("progress-bar");
    const label = document.getElementById("progress-label");
    const share = p.judgments_needed ? p.judgments_done / p.judgments_needed : 0;
    if (bar) bar.style.width = (100 * share).toFixed(1) + "%";
    if (label) {
      // The capped figure (each item up to its quota) is a progress figure, not a row count:
      // the links open the rows it is made from (human judgments, items at quota, items).
      const linked = settings().kind !== "dialogue" && settings().itemsUrl;
      const part = (url, text, aria) => (linked ? linkTo(url, text, aria) : document.createTextNode(text));
      label.replaceChildren(
        `${p.judgments_done} of ${p.judgments_needed} human judgments toward the quota (${pct(share)}; each item counted up to ${p.quota}), from `,
        part(judgmentsUrl({ kind: "human", counted: "yes" }), `${p.human_judgments} human judgments`,
          `${p.human_judgments} human judgments`),
        " · ",
        part(itemsUrl({ counted: "yes", human_judgments: `${p.quota}+` }), String(p.items_complete),
          `${p.items_complete} items at quota`),
        " of ",
        part(itemsUrl({ counted: "yes" }), `${p.items} items`, `${p.items} items`),
        ` at quota ${p.quota}`,
      );
      p.llm.forEach((l) => label.append(" · ", `${l.judge_group}: `,
        part(itemsUrl({ judge_group: l.judge_group }), String(l.items_judged), `${l.items_judged} items judged by ${l.judge_group}`),
        `/${p.items} items`));
    }
    const hist = p.judgments_per_item;
    draw("chart-progress", p.items ? [{
      type: "bar", x: hist.map((_, k) => k), y: hist,
      marker: { color: hist.map((_, k) => (k >= p.quota ? COLORS.excellent : COLORS.win)) },
      hovertemplate: "%{y} items with %{x} human judgments<br>click: open these items<extra></extra>",
    }] : [], {
      height: 240, margin: { l: 60, r: 20, t: 10, b: 50 },
      xaxis: { dtick: 1, title: { text: "Human judgments per item" } },
      yaxis: { title: { text: "Items" }, gridcolor: COLORS.grid },
      shapes: [{ type: "line", x0: p.quota - 0.5, x1: p.quota - 0.5, yref: "paper", y0: 0, y1: 1, line: { dash: "dot", color: COLORS.muted } }],
      annotations: [{ x: p.quota - 0.5, yref: "paper", y: 1, text: "quota", showarrow: false, xanchor: "left", font: { color: COLORS.muted } }],
    });
    if (p.items && settings().kind !== "dialogue") {
      openRowsOnClick("chart-progress", (curve, k) => itemsUrl({ counted: "yes", human_judgments: String(k) }));
    }
  }

  function summary(data) {
    const el = document.getElementById("updated");
    if (el) {
      el.textContent = `${data.n_judgments} judgments · updated ${new Date().toLocaleTimeString()}`;
      // The link opens the judgments counted: one judge group or all of them, never a mix
      // the list cannot filter; a dialogue counts labelled turns, not judgments.
      const groups = data.filters.groups || [];
      const query = new URLSearchParams({ counted: "yes" });
      if (data.filters.category) query.set("category", data.filters.category);
      if (groups.length === 1) query.set("judge_group", groups[0]);
      if (groups.length > 1 || settings().kind === "dialogue") el.removeAttribute("href");
      else el.href = settings().judgmentsUrl + "?" + query.toString();
    }
    const excluded = document.getElementById("excluded-note");
    if (excluded && data.excluded) {
      document.getElementById("excluded-raters").textContent = `${data.excluded.raters} raters excluded`;
      document.getElementById("excluded-judgments").textContent = `${data.excluded.judgments} judgments`;
    }
    const status = document.getElementById("study-status");
    if (status) { status.textContent = data.status; status.dataset.status = data.status; }
  }

  /* Judge groups that appear after the page loaded get a (ticked) box of their own. */
  function syncGroups(data) {
    const fieldset = document.querySelector("#filters fieldset");
    if (!fieldset) return;
    const have = new Set([...fieldset.querySelectorAll("input[name=group]")].map((b) => b.value));
    (data.filters.available_groups || []).forEach((group) => {
      if (have.has(group)) return;
      fieldset.querySelector(".none-yet")?.remove();
      const label = document.createElement("label");
      label.className = "check";
      const box = document.createElement("input");
      box.type = "checkbox"; box.name = "group"; box.value = group; box.checked = true;
      label.append(box, " " + group);
      fieldset.appendChild(label);
    });
  }

  /* The study's own instrument: one stacked bar per slice and judge group, a segment per
   * choice (pairwise from the target's side, so "both bad" shows as its own share). */
  const CHOICE_COLORS = ["#3f6fa6", "#7fa3cc", "#c4cad3", "#e3b48f", "#d39064", "#c96a6a", "#5a9e6f", "#9a7fc0", "#8c8c8c"];
  /* A pairwise choice in words from the target's side: the shares are already in the
   * target's frame (side A is the target), so "Answer A is significantly better" is shown as
   * "claude-2 much better", never as the left-hand answer. */
  function choiceLabel(c, target, baseline) {
    if (!c.side || c.side === "tie") return c.label.replace(/\.$/, "");
    const who = c.side === "A" ? target : (baseline || "baseline");
    const text = (c.label + " " + (c.definition || "")).toLowerCase();
    const strength = (c.weight > 1 || /significantly|much|>>/.test(text)) ? "much better"
      : /slightly|>/.test(text) ? "slightly better" : "better";
    return `${who} ${strength}`;
  }

  function choiceBars(rows, instrument) {
    if (!rows.length || !instrument) return draw("chart-choices", []);
    const slice = (r) => `${r.baseline ?? r.model} · ${r.judge_group}`;
    const names = rows.map(slice);
    const target = settings().target || "target";
    draw("chart-choices", instrument.choices.map((c, i) => ({
      type: "bar", orientation: "h", name: choiceLabel(c, target), y: names,
      x: rows.map((r) => r.shares[i].share), marker: { color: CHOICE_COLORS[i % CHOICE_COLORS.length] },
      hovertemplate: rows.map((r) => `${slice(r)}<br>${choiceLabel(c, target, r.baseline)}: ${pct1(r.shares[i].share)} (${r.shares[i].count} of ${r.n})`
        + `<br>Wilson 95% [${pct1(r.shares[i].wilson.low)}, ${pct1(r.shares[i].wilson.high)}]<br>click: open these judgments<extra></extra>`),
    })), {
      barmode: "stack", height: 110 + 36 * rows.length,
      xaxis: { range: [0, 1], tickformat: ".0%", gridcolor: COLORS.grid },
      yaxis: { autorange: "reversed", automargin: true },
    });
    if (settings().kind !== "dialogue") {
      openRowsOnClick("chart-choices", (curve, k) => judgmentsUrl({
        judge_group: rows[k].judge_group, baseline: rows[k].baseline, model: rows[k].baseline ? "" : rows[k].model,
        counted: "yes", choice: instrument.choices[curve].value }));
    }
  }

  function weightedWinRates(rows) {
    const table = document.getElementById("weighted-win-rate");
    if (!table) return;
    const body = table.querySelector("tbody");
    const chosen = document.querySelector("#filters select[name=category]");
    body.replaceChildren(...rows.map((r) => {
      const tr = document.createElement("tr");
      [r.baseline, r.judge_group, String(r.n), pct1(r.win_rate), pct1(r.weighted_win_rate),
        r.interval ? `[${pct1(r.interval.low)}, ${pct1(r.interval.high)}]` : "–"].forEach((text, i) => {
        const td = document.createElement("td");
        td.textContent = text;
        if (i >= 2) td.className = "num";
        tr.appendChild(td);
      });
      // The judgments count opens them: every counted answer in the instrument, each order.
      const query = new URLSearchParams({ baseline: r.baseline, judge_group: r.judge_group,
        counted: "yes", answered: "yes" });
      if (chosen && chosen.value) query.set("category", chosen.value);
      const link = document.createElement("a");
      link.href = settings().judgmentsUrl + "?" + query.toString();
      link.textContent = String(r.n);
      link.setAttribute("aria-label", `${r.n} judgments against ${r.baseline} by ${r.judge_group}`);
      tr.children[2].replaceChildren(link);
      return tr;
    }));
  }

  function renderStudy(data) {
    choiceBars(data.choices || [], data.instrument);
    weightedWinRates(data.weighted_win_rate || []);
    syncGroups(data);
    winTieLoss(data.pairwise || []);
    agreement(data.agreement);
    labelBars("chart-labels", data.labels || [], "model");
    labelBars("chart-labels-category", data.labels_by_category || [], "category");
    likert(data.likert || []);
    leaderboard("chart-leaderboard", data.leaderboard);
    bias(data.bias || {}, data);
    progress(data.progress);
    summary(data);
  }

  function filterQuery(form) {
    const params = new URLSearchParams();
    const boxes = form.querySelectorAll("input[name=group]");
    const checked = form.querySelectorAll("input[name=group]:checked");
    // All boxes ticked means no filter, so groups that appear later are shown too.
    if (checked.length < boxes.length) checked.forEach((b) => params.append("group", b.value));
    const category = form.querySelector("select[name=category]");
    if (category && category.value) params.set("category", category.value);
    return params.toString();
  }

  function startStudy() {
    const source = document.getElementById("results-data");
    let data = JSON.parse(source.textContent);
    const form = document.getElementById("filters");
    form.addEventListener("submit", (event) => event.preventDefault());
    const endpoint = settings().endpoint;
    const every = 1000 * Number(settings().poll || 5);
    let query = filterQuery(form);
    let version = data.version;
    renderStudy(data);
    document.getElementById("agreement-metric")?.addEventListener("change", () => agreement(data.agreement));

    async function refresh(force) {
      try {
        const response = await fetch(endpoint + (query ? "?" + query : ""), { headers: { Accept: "application/json" } });
        if (!response.ok) return;
        const fresh = await response.json();
        if (force || fresh.version !== version || fresh.status !== data.status) {
          data = fresh; version = fresh.version; renderStudy(data);
        } else {
          summary(fresh);
        }
      } catch (err) { /* the next poll tries again */ }
    }
    // The filters apply as they change; Enter in the form must not reload the page.
    form.addEventListener("submit", (event) => event.preventDefault());
    form.addEventListener("change", () => {
      query = filterQuery(form);
      history.replaceState(null, "", "?" + query);
      refresh(true);
    });
    setInterval(() => { if (!document.hidden) refresh(false); }, every);
  }

  function startOverview() {
    const source = document.getElementById("leaderboard-data");
    if (source) leaderboard("chart-global-leaderboard", JSON.parse(source.textContent));
  }

  document.addEventListener("DOMContentLoaded", () => {
    // Progress bars carry their width as data-pct: the CSP allows no style attribute.
    document.querySelectorAll(".progress > span[data-pct]").forEach((bar) => {
      bar.style.width = bar.dataset.pct + "%";
    });
    if (document.getElementById("results-data")) startStudy();
    else startOverview();
  });
})();
