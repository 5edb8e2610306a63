// Live chat: send a message, read the streamed answer (server-sent events over a POST
// fetch), then rate the turn (conversations) or vote (battles). Streamed text is added as
// text nodes; the finished answer is replaced by the server's sanitised HTML.
(function () {
  "use strict";
  var page = JSON.parse(document.getElementById("live-page").textContent);
  var transcript = document.getElementById("transcript");
  var form = document.getElementById("composer");
  var box = document.getElementById("message");
  var sendButton = document.getElementById("send");
  var statusLine = document.getElementById("status");
  var retryButton = document.getElementById("retry");
  var labelPanel = document.getElementById("label-panel");
  var votePanel = document.getElementById("vote-panel");
  var endButton = document.getElementById("end");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var busy = false;
  var lastText = "";

  function say(text, isError) {
    statusLine.textContent = text;
    statusLine.classList.toggle("error", !!isError);
  }

  function post(url, fields) {
    var body = new URLSearchParams(fields);
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf },
    });
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function newRound(text) {
    var round = el("section", "round");
    var user = el("div", "turn user");
    user.appendChild(el("div", "who", "You"));
    user.appendChild(el("div", "md", text));
    round.appendChild(user);
    var bodies = {};
    if (page.mode === "battle") {
      var answers = el("div", "answers");
      ["A", "B"].forEach(function (side) {
        var art = el("article", "answer streaming");
        art.dataset.side = side;
        art.appendChild(el("h2", "", "Assistant " + side));
        bodies[side] = art.appendChild(el("div", "md"));
        answers.appendChild(art);
      });
      round.appendChild(answers);
    } else {
      var turn = el("div", "turn assistant streaming");
      turn.dataset.side = "A";
      turn.appendChild(el("div", "who", "Assistant"));
      bodies.A = turn.appendChild(el("div", "md"));
      round.appendChild(turn);
    }
    transcript.appendChild(round);
    return { round: round, bodies: bodies };
  }

  function setBusy(on) {
    busy = on;
    sendButton.disabled = on;
    box.disabled = on;
  }

  function afterAnswer() {
    page.answered += 1;
    if (page.mode === "battle") {
      votePanel.hidden = false;
      if (page.answered >= page.max_turns) {
        form.hidden = true;
        say("That was the last message. Please vote.");
        votePanel.querySelector("button").focus();
      } else {
        say("Vote with 1, 2 or 3, or click the message box to write to both again.");
        votePanel.querySelector("button").focus();
      }
    } else {
      page.needs_label = true;
      labelPanel.hidden = false;
      form.hidden = true;
      say("Please rate this answer: 1 Fail, 2 Pass, 3 Excellent.");
      labelPanel.querySelector("button").focus();
    }
  }

  function handleFrame(event, data, shown) {
    if (event === "delta") {
      // One text node per piece: the answer grows as it arrives.
      shown.bodies[data.side].appendChild(document.createTextNode(data.text));
    } else if (event === "done") {
      var body = shown.bodies[data.side];
      body.parentNode.classList.remove("streaming");
      body.innerHTML = data.html; // sanitised on the server (markdown + nh3 allow-list)
    } else if (event === "error") {
      shown.round.remove();
      say(data.message, true);
      retryButton.hidden = false;
      retryButton.focus();
    } else if (event === "end" && data.ok) {
      setBusy(false);
      afterAnswer();
    }
  }

  async function send(text) {
    if (busy) return;
    if (!text.trim()) { say("Please write a message first.", true); return; }
    setBusy(true);
    retryButton.hidden = true;
    say("The assistant is answering\u2026");
    lastText = text;
    var shown = null;
    try {
      var response = await post(page.send, { text: text });
      var type = response.headers.get("Content-Type") || "";
      if (!response.ok || type.indexOf("text/event-stream") !== 0) {
        var problem = {};
        try { problem = await response.json(); } catch (e) { problem = {}; }
        say(problem.error || "Something went wrong. Please try again.", true);
        setBusy(false);
        box.focus();
        return;
      }
      box.value = "";
      shown = newRound(text);
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      var ended = false;
      for (;;) {
        var part = await reader.read();
        if (part.done) break;
        buffer += decoder.decode(part.value, { stream: true });
        var cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          var raw = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          var event = "message", data = "";
          raw.split("\n").forEach(function (line) {
            if (line.indexOf("event: ") === 0) event = line.slice(7);
            else if (line.indexOf("data: ") === 0) data += line.slice(6);
          });
          if (event === "end" || event === "error") ended = true;
          handleFrame(event, JSON.parse(data || "{}"), shown);
        }
      }
      if (!ended) throw new Error("stream cut");
    } catch (e) {
      if (shown) shown.round.remove();
      say("The connection broke before the answer finished. This turn was not counted. " +
          "Press Retry to send your message again.", true);
      retryButton.hidden = false;
    } finally {
      setBusy(false);
    }
  }

  async function finishWith(url, fields) {
    var response = await post(url, fields);
    var result = await response.json();
    if (!response.ok) { say(result.error || "Please try again.", true); return null; }
    return result;
  }

  async function giveLabel(label) {
    if (!page.needs_label) return;
    var result = await finishWith(page.label, { label: label });
    if (!result) return;
    page.needs_label = false;
    var turns = transcript.querySelectorAll(".turn.assistant");
    var last = turns[turns.length - 1];
    if (last) last.appendChild(el("p", "given muted", "Rated: " + label.charAt(0).toUpperCase() + label.slice(1)));
    if (result.finished) { window.location.assign(result.next); return; }
    labelPanel.hidden = true;
    form.hidden = false;
    if (endButton) endButton.hidden = false;
    say("Thank you. Send your next message, or end the conversation.");
    box.focus();
  }

  async function giveVote(choice) {
    if (busy || page.answered < 1) return;
    var result = await finishWith(page.vote, { choice: choice });
    if (!result) return;
    var names = Object.keys(result.reveal || {});
    if (names.length) {
      say("Assistant A was " + result.reveal.A + "; Assistant B was " + result.reveal.B + ".");
      statusLine.classList.add("reveal");
      window.setTimeout(function () { window.location.assign(result.next); }, 2500);
    } else {
      window.location.assign(result.next);
    }
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); send(box.value); });
  box.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(box.value); }
  });
  retryButton.addEventListener("click", function () { send(lastText); });
  if (endButton) {
    endButton.addEventListener("click", async function () {
      var result = await finishWith(page.end, {});
      if (result) window.location.assign(result.next);
    });
  }
  if (labelPanel) {
    labelPanel.addEventListener("click", function (e) {
      var b = e.target.closest("button[data-label]");
      if (b) giveLabel(b.dataset.label);
    });
  }
  if (votePanel) {
    votePanel.addEventListener("click", function (e) {
      var b = e.target.closest("button[data-choice]");
      if (b) giveVote(b.dataset.choice);
    });
  }
  document.addEventListener("keydown", function (e) {
    if (e.target === box || e.ctrlKey || e.metaKey || e.altKey) return;
    // Keys 1-9 pick the panel's buttons in order (an instrument may have up to 9 choices).
    var n = "123456789".indexOf(e.key);
    if (n < 0 || e.key === "") return;
    if (labelPanel && !labelPanel.hidden) {
      var label = labelPanel.querySelectorAll("button[data-label]")[n];
      if (label) { e.preventDefault(); giveLabel(label.dataset.label); }
    } else if (votePanel && !votePanel.hidden) {
      var choice = votePanel.querySelectorAll("button[data-choice]")[n];
      if (choice) { e.preventDefault(); giveVote(choice.dataset.choice); }
    }
  });

  // A reload mid-conversation: show what the page must ask for next.
  if (page.mode === "battle" && page.answered > 0) votePanel.hidden = false;
  if (page.mode === "battle" && page.answered >= page.max_turns) form.hidden = true;
  if (page.mode !== "battle" && page.needs_label) { labelPanel.hidden = false; form.hidden = true; }
  if (page.mode !== "battle" && page.answered > 0 && !page.needs_label && endButton) endButton.hidden = false;
})();
