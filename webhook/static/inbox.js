/* Staff queue: new handoffs appear without a reload (polls /inbox/queue.json). */
(function () {
  "use strict";
  var table = document.getElementById("queue");
  var note = document.getElementById("live-note");
  if (!table || !window.fetch) return;
  var pollUrl = table.getAttribute("data-poll");
  var ticketBase = table.getAttribute("data-ticket-base");
  var known = {};
  Array.prototype.forEach.call(table.querySelectorAll("tbody a"), function (a) { known[a.textContent] = true; });

  function cell(tr, text) { var td = document.createElement("td"); td.textContent = text; tr.appendChild(td); return td; }
  function tag(td, text, cls) { var s = document.createElement("strong"); s.className = "tag " + (cls || ""); s.textContent = text; td.appendChild(document.createTextNode(" ")); td.appendChild(s); }

  function render(rows) {
    var body = document.createElement("tbody");
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.className = (r.due_flag || "") + " kind-" + r.kind;
      var first = document.createElement("td");
      var a = document.createElement("a");
      a.href = ticketBase + encodeURIComponent(r.reference);
      a.textContent = r.reference;
      first.appendChild(a);
      tr.appendChild(first);
      var kind = cell(tr, r.kind.replace(/_/g, " "));
      if (r.urgent) tag(kind, "urgent");
      cell(tr, r.status.replace(/_/g, " "));
      var ch = cell(tr, r.channel);
      if (r.sms_unreachable) tag(ch, "no SMS");
      var due = cell(tr, r.due_date || "");
      if (r.due_flag === "paused") tag(due, "paused " + r.paused_days + " day(s)", "tag-paused");
      if (r.due_flag === "overdue") tag(due, "overdue", "tag-overdue");
      if (r.due_flag === "due-soon") tag(due, "due soon", "tag-soon");
      cell(tr, r.assignee || "\u2014");
      cell(tr, r.summary);
      body.appendChild(tr);
    });
    if (!rows.length) { var tr = document.createElement("tr"); var td = cell(tr, "Nothing here."); td.colSpan = 7; body.appendChild(tr); }
    table.replaceChild(body, table.tBodies[0]);
  }

  function poll() {
    fetch(pollUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (data) {
        if (!data) return;
        var fresh = data.tickets.filter(function (r) { return !known[r.reference]; });
        var changed = fresh.length || data.tickets.length !== Object.keys(known).length;
        if (!changed) return;
        known = {};
        data.tickets.forEach(function (r) { known[r.reference] = true; });
        render(data.tickets);
        var handoffs = fresh.filter(function (r) { return r.kind === "handoff"; });
        if (handoffs.length) {
          note.textContent = "New handoff" + (handoffs.length > 1 ? "s" : "") + ": " +
            handoffs.map(function (r) { return r.reference; }).join(", ");
        } else if (fresh.length) {
          note.textContent = fresh.length + " new request" + (fresh.length > 1 ? "s" : "") + " in the queue.";
        }
      })
      .catch(function () { /* try again next time */ });
  }
  setInterval(poll, 4000);
})();
