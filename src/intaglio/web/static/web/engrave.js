// Engrave studio: slider read-outs, presets, mode-specific settings, and panning the 1:1 preview in step.
// The live preview itself is htmx (hx-post on the settings form); nothing here talks to the server.
(function () {
  "use strict";

  function showValues(form) {
    form.querySelectorAll("input[type=range][data-show-value]").forEach(function (input) {
      var label = form.querySelector('label[for="' + input.id + '"]');
      if (!label || label.querySelector("output")) return;
      var output = document.createElement("output");
      output.className = "slider-value";
      output.htmlFor = input.id;
      output.textContent = input.value;
      label.appendChild(output);
      input.addEventListener("input", function () { output.textContent = input.value; });
    });
  }

  function modeOptions(form) {
    var mode = form.querySelector("#mode");
    if (!mode) return;
    var update = function () {
      var option = mode.options[mode.selectedIndex];
      form.dataset.opts = option ? option.dataset.opts || "" : "";
    };
    mode.addEventListener("change", update);
    update();
  }

  function setField(form, name, value) {
    var field = form.elements.namedItem(name);
    if (!field) return;
    if (field.type === "checkbox") field.checked = Boolean(value);
    else field.value = value === null || value === undefined ? "" : String(value);
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function presets(form) {
    var select = document.getElementById("preset");
    var data = document.getElementById("studio-presets");
    if (!select || !data) return;
    var list = JSON.parse(data.textContent);
    select.addEventListener("change", function () {
      var preset = list.find(function (p) { return String(p.id) === select.value; });
      if (!preset) return;
      setField(form, "material", preset.material);
      setField(form, "mode", preset.mode);
      setField(form, "line_interval_mm", preset.line_interval_mm);
      Object.keys(preset.adjustments || {}).forEach(function (name) { setField(form, name, preset.adjustments[name]); });
      form.querySelector("#mode").dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  // At 1:1 each pane scrolls; panning one pans the others to the same spot.
  var syncing = false;
  function syncScroll(event) {
    var source = event.target;
    if (syncing || !source.classList || !source.classList.contains("pane-view")) return;
    syncing = true;
    document.querySelectorAll(".pane-view").forEach(function (pane) {
      if (pane !== source) { pane.scrollLeft = source.scrollLeft; pane.scrollTop = source.scrollTop; }
    });
    syncing = false;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("studio-form");
    if (!form) return;
    showValues(form);
    modeOptions(form);
    presets(form);
    document.addEventListener("scroll", syncScroll, true);
  });
})();
