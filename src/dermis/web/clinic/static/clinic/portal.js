// Follow-up questions: shown only when the answer they follow asks for them. Without script
// every question shows, and the server checks the follow-ups either way.
(function () {
  "use strict";
  function update(box) {
    var name = box.getAttribute("data-shown-by");
    var wanted = box.getAttribute("data-shown-when").split(" ");
    var checked = document.querySelector('input[name="' + name + '"]:checked');
    box.hidden = !(checked && wanted.indexOf(checked.value) !== -1);
  }
  document.querySelectorAll("[data-shown-by]").forEach(function (box) {
    var name = box.getAttribute("data-shown-by");
    document.querySelectorAll('input[name="' + name + '"]').forEach(function (input) {
      input.addEventListener("change", function () { update(box); });
    });
    update(box);
  });
})();
