/* Development phone: signs on the server, posts to /sms/inbound like Twilio, shows replies. */
(function () {
  "use strict";
  var form = document.getElementById("phone-form");
  var log = document.getElementById("phone-log");
  var phone = document.getElementById("phone-number");
  var body = document.getElementById("phone-body");
  var csrf = form.getAttribute("data-csrf");
  var shown = 0;

  function render(items) {
    if (items.length === shown) return;
    while (log.firstChild) log.removeChild(log.firstChild);
    items.forEach(function (m) {
      var li = document.createElement("li");
      li.className = m.dir === "in" ? "from-resident" : "from-bot";
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = m.dir === "in" ? "You" : "Reply (" + m.status + ")";
      var p = document.createElement("p");
      p.className = "pre";
      p.textContent = m.text;
      li.appendChild(who);
      li.appendChild(p);
      log.appendChild(li);
    });
    shown = items.length;
  }

  function refresh() {
    fetch("/dev/phone/messages?phone=" + encodeURIComponent(phone.value))
      .then(function (r) { return r.ok ? r.json() : { messages: [] }; })
      .then(function (d) { render(d.messages); })
      .catch(function () {});
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    fetch("/dev/phone/sign", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ phone: phone.value, body: body.value })
    }).then(function (r) { return r.json(); }).then(function (signed) {
      if (!signed.signature) throw new Error(signed.error || "could not sign");
      return fetch(signed.url, {
        method: "POST",
        headers: { "X-Twilio-Signature": signed.signature, "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(signed.params).toString()
      });
    }).then(function () { body.value = ""; refresh(); })
      .catch(function (err) { alert(String(err)); });
  });
  phone.addEventListener("change", function () { shown = -1; refresh(); });
  setInterval(refresh, 1500);
  refresh();
})();
