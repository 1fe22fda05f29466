/* Paper worksheet entry: Enter in a value cell moves to the next cell instead of submitting
   the form (a keyboard-wedge caliper or balance ends every value with Enter), Shift+Enter to
   the previous one. The form is submitted only with its button. */
(function () {
  "use strict";
  function cells(form) {
    return Array.prototype.slice.call(form.querySelectorAll(".transcription-cell input"));
  }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key !== "Enter" || !target || !target.closest) {
      return;
    }
    var cell = target.closest(".transcription-cell");
    var form = target.closest("form");
    if (!cell || !form) {
      return;
    }
    event.preventDefault();
    var all = cells(form);
    var index = all.indexOf(target);
    var next = all[index + (event.shiftKey ? -1 : 1)];
    if (next) {
      next.focus();
      next.select();
    } else {
      var submit = form.querySelector("button[type=submit]");
      if (submit) {
        submit.focus();
      }
    }
  });
})();
