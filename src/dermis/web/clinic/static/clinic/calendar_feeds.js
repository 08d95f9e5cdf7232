// Copy a feed address to the clipboard; the read-only field stays selectable without script.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.addEventListener("click", function () {
      var field = document.getElementById(button.getAttribute("data-copy-target"));
      var status = document.querySelector("[data-copy-status]");
      field.select();
      var done = function (ok) {
        if (status) status.textContent = ok ? "Address copied." : "Select the address and copy it.";
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(function () { done(true); }, function () { done(false); });
      } else {
        try { done(document.execCommand("copy")); } catch (e) { done(false); }
      }
    });
  });
})();
