// featureflags dashboard: small progressive enhancements; every page works without them.
(function () {
  "use strict";

  function csrfToken(form) {
    var input = (form || document).querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // Forms that change something serious ask first (kill switch, revert, remove).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // Percentage: the slider and the number follow each other.
  document.querySelectorAll("[data-slider]").forEach(function (box) {
    var range = box.querySelector("input[type=range]");
    var number = box.querySelector("input[type=number]");
    if (!range || !number) return;
    range.addEventListener("input", function () { number.value = range.value; });
    number.addEventListener("input", function () { range.value = number.value; });
  });

  // Formsets: "add a row" clones the empty form and raises TOTAL_FORMS.
  document.querySelectorAll("[data-formset]").forEach(function (box) {
    var prefix = box.getAttribute("data-formset");
    var total = box.querySelector("#id_" + prefix + "-TOTAL_FORMS");
    var template = box.querySelector("template");
    var body = box.querySelector("tbody");
    var add = box.querySelector("[data-add-row]");
    if (!total || !template || !body || !add) return;
    add.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      body.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      box.dispatchEvent(new Event("input", { bubbles: true }));
    });
  });

  // Variant weights: show the running total; the form refuses anything but 100.
  document.querySelectorAll("[data-weights]").forEach(function (box) {
    var out = box.querySelector("[data-weight-sum]");
    function update() {
      var sum = 0, rows = 0;
      box.querySelectorAll("tbody tr").forEach(function (row) {
        var name = row.querySelector("input[name$='-name']");
        var weight = row.querySelector("input[name$='-weight']");
        var gone = row.querySelector("input[name$='-DELETE']");
        if (!name || !weight || !name.value.trim() || (gone && gone.checked)) return;
        rows += 1;
        sum += parseInt(weight.value || "0", 10) || 0;
      });
      out.textContent = rows ? sum + " / 100" : "no variants";
      out.className = "sum " + (!rows || sum === 100 ? "good" : "bad");
    }
    box.addEventListener("input", update);
    box.addEventListener("change", update);
    update();
  });

  // Rule tester: paste ids, see which rules match each one, live.
  document.querySelectorAll("[data-rule-tester]").forEach(function (box) {
    var url = box.getAttribute("data-rule-tester");
    var ids = box.querySelector("textarea[name=ids]");
    var extra = document.querySelector("input[name=pattern]");
    var out = box.querySelector("[data-results]");
    var timer = null;
    function run() {
      var body = new URLSearchParams();
      body.append("ids", ids.value);
      if (extra && extra.value) body.append("pattern", extra.value);
      fetch(url, { method: "POST", body: body, credentials: "same-origin",
                   headers: { "X-CSRFToken": csrfToken(box) } })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          out.innerHTML = "";
          if (data.error) {
            var li = document.createElement("li");
            li.className = "nomatch";
            li.textContent = data.error;
            out.appendChild(li);
          }
          (data.results || []).forEach(function (result) {
            var li = document.createElement("li");
            li.className = result.matches.length ? "match" : "nomatch";
            li.setAttribute("data-id", result.id);
            li.textContent = (result.matches.length ? "✔ " : "✘ ") + result.id +
              (result.matches.length ? "  matches " + result.matches.join(", ") : "  no rule matches");
            out.appendChild(li);
          });
        });
    }
    function later() { clearTimeout(timer); timer = setTimeout(run, 200); }
    ids.addEventListener("input", later);
    if (extra) extra.addEventListener("input", later);
    if (ids.value) run();
  });

  // User list upload: send the file with a progress bar, then wait for the batches.
  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    var bar = form.querySelector("progress");
    var status = form.querySelector("[data-status]");
    form.addEventListener("submit", function (event) {
      if (event.defaultPrevented || !window.XMLHttpRequest || !window.FormData) return;
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      bar.hidden = false;
      bar.value = 0;
      status.textContent = "Uploading…";
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          bar.max = e.total;
          bar.value = e.loaded;
          status.textContent = "Uploading… " + Math.round(100 * e.loaded / e.total) + " %";
        }
        if (e.loaded === e.total) {
          bar.removeAttribute("value");
          status.textContent = "Uploaded; saving the ids in batches of 5,000 (all or nothing)…";
        }
      });
      xhr.addEventListener("load", function () {
        button.disabled = false;
        bar.hidden = true;
        var data = {};
        try { data = JSON.parse(xhr.responseText); } catch (e) { data = { error: "The server answered " + xhr.status + "." }; }
        status.textContent = data.error || data.message;
        status.className = data.error ? "errorlist" : "sum good";
        if (!data.error && data.redirect) window.location.assign(data.redirect);
      });
      xhr.addEventListener("error", function () {
        button.disabled = false;
        status.textContent = "The upload failed (network); nothing was changed.";
        status.className = "errorlist";
      });
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.send(new FormData(form));
    });
  });
})();
