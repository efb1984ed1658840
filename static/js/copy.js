// Copies the value of the element named by a button's data-copy-target to the clipboard.
// No inline scripts: the CSP allows only files from our own origin.
(function () {
  "use strict";
  function copied(button) {
    var label = button.dataset.copiedLabel || "Copied";
    button.textContent = label;
    button.dataset.copied = "true";
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) { return; }
    var source = document.querySelector(button.dataset.copyTarget);
    if (!source) { return; }
    var text = source.value !== undefined ? source.value : source.textContent;
    function copyBySelection() {
      source.select();
      if (document.execCommand("copy")) { copied(button); }
    }
    if (navigator.clipboard && window.isSecureContext) {
      // writeText is refused when the document does not have the focus: copy the old way then.
      navigator.clipboard.writeText(text).then(function () { copied(button); }, copyBySelection);
    } else {
      copyBySelection();
    }
  });
})();
