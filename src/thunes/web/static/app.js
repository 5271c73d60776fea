// THUNES dashboard: the only script. A confirmed action is sent once: its button is
// disabled on submit, so a double click cannot send a second request.
document.addEventListener("submit", function (event) {
  var buttons = event.target.querySelectorAll("button[type=submit]");
  buttons.forEach(function (button) {
    window.setTimeout(function () { button.disabled = true; }, 0);
  });
});
