// infrawatch console: refresh the panels in place (short poll) and open the action dialogs.
(function () {
  "use strict";
  var script = document.currentScript;
  var every = parseInt(script.dataset.refreshMs, 10) || 5000;
  // the feed's filter (?severity=&service=) applies to the refreshed panels too; the flash does not
  var params = new URLSearchParams(window.location.search);
  params.delete("flash");
  var url = script.dataset.panelsUrl + (params.toString() ? "?" + params.toString() : "");
  var live = document.getElementById("live");

  function openDialog(button) {
    var dialog = document.getElementById(button.dataset.dialog);
    dialog.querySelectorAll("[data-fill]").forEach(function (el) {
      el.textContent = button.dataset[el.dataset.fill] || "";
    });
    dialog.querySelectorAll("[data-fill-value]").forEach(function (el) {
      el.value = button.dataset[el.dataset.fillValue] || "";
    });
    dialog.showModal();
  }

  // Delegated: the buttons are replaced on every refresh.
  document.addEventListener("click", function (ev) {
    var button = ev.target.closest("button[data-dialog]");
    if (button) openDialog(button);
  });
  // One confirmed click sends one POST: the submit button is disabled once the form goes.
  document.querySelectorAll("dialog form[method=post]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (ev.submitter && ev.submitter.getAttribute("formmethod") === "dialog") return;
      if (form.dataset.sent) { ev.preventDefault(); return; }
      form.dataset.sent = "1";
      form.querySelectorAll("button:not([formmethod=dialog])").forEach(function (b) { b.disabled = true; });
    });
  });

  function refresh() {
    if (document.querySelector("dialog[open]")) { return setTimeout(refresh, every); }
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (doc) {
        Object.keys(doc.fragments).forEach(function (key) {
          var el = document.querySelector('[data-panel="' + key + '"]');
          if (el) el.innerHTML = doc.fragments[key];
        });
        document.getElementById("updated").textContent = doc.updated;
        live.className = "";
        live.textContent = "● live";
        document.body.dataset.refreshes = String((parseInt(document.body.dataset.refreshes || "0", 10) + 1));
      })
      .catch(function (err) {
        live.className = "stale";
        live.textContent = "● console unreachable (" + err.message + "), retrying";
      })
      .finally(function () { setTimeout(refresh, every); });
  }
  setTimeout(refresh, every);
})();
