// The judge leaderboard table: rows from json_script, sortable by any column.
(function () {
  "use strict";
  const data = document.getElementById("judge-board-data");
  const body = document.getElementById("judge-board-rows");
  if (!data || !body) return;
  const rows = JSON.parse(data.textContent);
  const get = (row, key) => key.split(".").reduce((v, k) => (v == null ? v : v[k]), row);
  const pct = (x) => (x == null ? "–" : (100 * x).toFixed(1) + "%");
  const num = (x, d) => (x == null ? "–" : Number(x).toFixed(d));
  const withInterval = (value, interval, fmt) =>
    interval && interval.low != null ? `${fmt(value)} [${fmt(interval.low)}, ${fmt(interval.high)}]` : fmt(value);
  function cells(r) {
    const a = r.agreement;
    return [
      [r.judge_group, false], [r.study_name + " (" + r.study + ")", false], [r.instrument, false],
      [withInterval(a.tie_discounted_accuracy, a.tie_discounted_accuracy_interval, pct), true],
      [withInterval(a.accuracy, a.accuracy_interval, pct), true],
      [withInterval(a.cohen_kappa, a.cohen_kappa_interval, (x) => num(x, 2)), true],
      [pct(r.swap_consistency), true], [pct(r.position_first_win_rate), true],
      [pct(r.prefers_longer_rate), true], [num(r.win_rate_spearman, 2), true],
      [num(r.price_usd_per_1000, 4), true], [num(r.seconds_per_1000, 1), true],
    ];
  }
  function draw() {
    body.innerHTML = "";
    rows.forEach((r) => {
      const tr = document.createElement("tr");
      cells(r).forEach(([text, numeric]) => {
        const td = document.createElement("td");
        td.textContent = text;
        if (numeric) td.className = "num";
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }
  let sortKey = null;
  let descending = true;
  document.querySelectorAll("#judge-board button.sort").forEach((button) => {
    button.addEventListener("click", () => {
      const key = button.dataset.key;
      descending = sortKey === key ? !descending : true;
      sortKey = key;
      rows.sort((x, y) => {
        const a = get(x, key), b = get(y, key);
        if (a == null) return 1;
        if (b == null) return -1;
        const order = a < b ? -1 : a > b ? 1 : 0;
        return descending ? -order : order;
      });
      document.querySelectorAll("#judge-board th").forEach((th) => th.removeAttribute("aria-sort"));
      button.parentElement.setAttribute("aria-sort", descending ? "descending" : "ascending");
      draw();
    });
  });
  draw();
})();
