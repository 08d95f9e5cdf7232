/* Face/body diagram for session charting. Each shape becomes a checkbox (click, Enter or Space)
   tied to its area's row; the rows' own checkboxes keep working, with or without this script. */
(function () {
  "use strict";
  var map = document.querySelector("[data-bodymap]");
  if (!map) { return; }
  var form = map.closest("form");

  function checkboxFor(area) {
    return form.querySelector('input[type=checkbox][name="treat_' + area + '"]');
  }

  function rowFor(area) {
    return form.querySelector('[data-area-row="' + area + '"]');
  }

  function sync(area) {
    var box = checkboxFor(area);
    var row = rowFor(area);
    var on = box.checked;
    if (row) {
      // a row with an error stays open so the message stays visible
      row.classList.toggle("on", on || !!row.querySelector(".errorlist"));
    }
    map.querySelectorAll('[data-area="' + area + '"]').forEach(function (shape) {
      shape.classList.toggle("on", on);
      shape.setAttribute("aria-checked", on ? "true" : "false");
    });
  }

  function toggle(area) {
    var box = checkboxFor(area);
    box.checked = !box.checked;
    sync(area);
  }

  map.querySelectorAll(".bm-area").forEach(function (shape) {
    var area = shape.getAttribute("data-area");
    var box = checkboxFor(area);
    if (!box) { shape.classList.add("bm-off"); return; }
    var title = shape.querySelector("title");
    shape.setAttribute("role", "checkbox");
    shape.setAttribute("tabindex", "0");
    shape.setAttribute("aria-label", title ? title.textContent : area);
    shape.addEventListener("click", function () { toggle(area); });
    shape.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " " || event.key === "Spacebar") {
        event.preventDefault(); // Space would scroll, Enter would submit
        toggle(area);
      }
    });
    box.addEventListener("change", function () { sync(area); });
    sync(area);
  });

  map.querySelectorAll("svg.bm-svg").forEach(function (svg) {
    svg.removeAttribute("aria-hidden");
    svg.setAttribute("role", "group");
    svg.setAttribute("aria-label", svg.getAttribute("data-label"));
  });
  form.classList.add("bm-ready");
})();
