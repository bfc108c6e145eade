/* govshare: progressive enhancement only. Every page works without this file. */
(function () {
  "use strict";

  function $all(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }

  /* Character counters: the HTML maxlength is a hard stop without JavaScript; with it we show a live
     count instead and let the server explain an over-long value, so pasted text is never cut silently. */
  function counters(root) {
    var texts = document.documentElement.dataset;
    $all("[data-counter][maxlength]", root).forEach(function (input) {
      var max = parseInt(input.getAttribute("maxlength"), 10);
      input.removeAttribute("maxlength");
      input.dataset.max = String(max);
      var out = document.createElement("p");
      out.className = "counter";
      out.setAttribute("aria-live", "polite");
      out.dataset.counterFor = input.id;
      input.insertAdjacentElement("afterend", out);
      function update() {
        var n = Array.from(input.value).length;
        var over = n - max;
        out.classList.toggle("over", over > 0);
        out.textContent = over > 0
          ? (texts.tooMany || "{n} too many").replace("{n}", over)
          : n + " / " + max;
      }
      input.addEventListener("input", update);
      update();
    });
  }

  /* Sharing type: show the conditions or the legal basis only when they apply, and require them. */
  function sharingType(form) {
    var radios = $all("[data-sharing-type]", form);
    if (!radios.length) return;
    function update() {
      var chosen = (radios.filter(function (r) { return r.checked; })[0] || {}).value;
      $all("[data-show-when]", form).forEach(function (block) {
        var on = block.dataset.showWhen === chosen;
        block.hidden = !on;
        $all("[data-required-marker]", block).forEach(function (mark) { mark.hidden = false; });
        $all("textarea, input", block).forEach(function (el) { el.required = on; });
      });
    }
    radios.forEach(function (r) { r.addEventListener("change", update); });
    update();
  }

  /* Items table: add and remove rows in place; a non-shareable item needs its legal basis. */
  function items(form) {
    var body = form.querySelector("[data-item-rows]");
    var template = document.getElementById("item-row-template");
    if (!body || !template) return;
    var next = 1000;
    function renumber() {
      $all("[data-item-row]", body).forEach(function (row, i) {
        row.querySelector("[data-row-number]").textContent = String(i + 1);
      });
    }
    function wire(row) {
      var remove = row.querySelector("[data-remove-row]");
      remove.hidden = false;
      remove.addEventListener("click", function () {
        if ($all("[data-item-row]", body).length > 1) {
          row.remove();
          renumber();
        } else {
          $all("input:not([type=checkbox]):not([type=hidden])", row).forEach(function (el) { el.value = ""; });
        }
      });
      var shareable = row.querySelector("[data-shareable]");
      var basis = row.querySelector("[data-legal-basis]");
      function update() {
        basis.required = !shareable.checked;
        basis.classList.toggle("needed", !shareable.checked);
      }
      shareable.addEventListener("change", update);
      update();
    }
    $all("[data-item-row]", body).forEach(wire);
    var add = form.querySelector("[data-add-row]");
    var addMany = form.querySelector("[data-add-rows]");
    if (addMany) addMany.hidden = true;
    if (add) {
      add.hidden = false;
      add.addEventListener("click", function () {
        var html = template.innerHTML.replace(/__i__/g, String(next++));
        var holder = document.createElement("tbody");
        holder.innerHTML = html;
        var row = holder.querySelector("[data-item-row]");
        body.appendChild(row);
        wire(row);
        renumber();
        row.querySelector("input").focus();
      });
    }
  }

  /* Search filters apply as soon as they change. */
  function autosubmit() {
    $all("form[data-autosubmit]").forEach(function (form) {
      $all(".filters select, .filters input[type=radio]", form).forEach(function (el) {
        el.addEventListener("change", function () { form.submit(); });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    counters(document);
    $all("form[data-resource-form]").forEach(function (form) {
      sharingType(form);
      items(form);
    });
    autosubmit();
    var summary = document.querySelector("[data-focus-on-load]");
    if (summary) summary.focus();
  });
})();
