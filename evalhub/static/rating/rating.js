// Keyboard rating: a choice's key (1-9, shown beside it) chooses it (in the first unanswered group, in dialogues), Enter
// submits. The page's own clock measures time on task; the server bounds it.
(function () {
  "use strict";
  var form = document.getElementById("rate-form");
  if (!form) return;
  var started = performance.now();
  var groups = Array.prototype.slice.call(form.querySelectorAll("[data-group]"));
  var hint = document.getElementById("hint");
  var sent = false;

  function answered(group) { return !!group.querySelector("input:checked"); }
  function current() {
    var focused = document.activeElement && document.activeElement.closest("[data-group]");
    if (focused) return focused;
    for (var i = 0; i < groups.length; i++) if (!answered(groups[i])) return groups[i];
    return groups[groups.length - 1];
  }
  function choose(group, key) {
    // The instrument sets each choice's key: the one shown in the choice's <kbd>.
    var labels = group.querySelectorAll("label.choice");
    var input = null;
    for (var i = 0; i < labels.length; i++) {
      var kbd = labels[i].querySelector("kbd");
      if (kbd && kbd.textContent === key) input = labels[i].querySelector("input[type=radio]");
    }
    if (!input) return;
    input.checked = true;
    input.focus({ preventScroll: groups.length === 1 });
    var next = groups[groups.indexOf(group) + 1];
    if (next && !answered(next)) next.scrollIntoView({ block: "center", behavior: "smooth" });
  }
  function submit() {
    var missing = groups.filter(function (g) { return !answered(g); });
    if (missing.length) {
      hint.textContent = "Please choose an answer first (its key, or click it).";
      hint.classList.add("warn");
      missing[0].scrollIntoView({ block: "center" });
      return;
    }
    if (sent) return;
    sent = true;
    form.requestSubmit();
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    var typing = e.target && e.target.tagName === "TEXTAREA";
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); submit(); return; }
    if (typing) return;
    if (e.key.length === 1 && e.key >= "1" && e.key <= "9") {
      e.preventDefault();
      choose(current(), e.key);
    }
  });
  // Back on this page from the browser's cache (the answer's request failed: a server that
  // died mid-request): Enter sends it again; the server records it at most once.
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) return;
    sent = false;
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = false;
  });
  form.addEventListener("submit", function (e) {
    var missing = groups.some(function (g) { return !answered(g); });
    if (missing) { e.preventDefault(); sent = false; return; }
    form.elements.t.value = String(Math.round(performance.now() - started));
    sent = true;
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
  });
})();
