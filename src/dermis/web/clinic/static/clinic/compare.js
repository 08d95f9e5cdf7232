/* Photo comparison slider: the second photo is laid over the first and revealed from the right by
   a labelled range input (arrow keys, Home/End, Page Up/Down all work as on any range). */
(function () {
  "use strict";
  var section = document.querySelector("[data-compare]");
  if (!section) { return; }
  var range = section.querySelector("input[type=range]");
  var top = section.querySelector(".compare-top");
  var divider = section.querySelector(".divider");

  function update() {
    var shown = Number(range.value);
    var hidden = 100 - shown;
    top.style.clipPath = "inset(0 0 0 " + hidden + "%)";
    divider.style.left = "calc(" + hidden + "% - 1px)";
    range.setAttribute("aria-valuetext", shown + "% of the second photo shown");
  }

  range.addEventListener("input", update);
  section.hidden = false;
  update();
})();
