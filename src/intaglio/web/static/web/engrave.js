// Engrave studio: slider read-outs, material defaults and presets, mode-specific settings, and panning the 1:1
// preview in step.
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

  // Fields set here (a material's defaults, a preset) are not "moved by the user"; this says so to the listeners.
  var settingFields = false;

  function setField(form, name, value) {
    var field = form.elements.namedItem(name);
    if (!field) return;
    settingFields = true;
    try {
      if (field.type === "checkbox") field.checked = Boolean(value);
      else field.value = value === null || value === undefined ? "" : String(value);
      // Not bubbling: the field's own listeners (its read-out) hear it, the preview does not. The caller asks for
      // one preview when it is done, instead of one per field (each replacing the one before).
      field.dispatchEvent(new Event("input", { bubbles: false }));
    } finally {
      settingFields = false;
    }
  }

  /* Material defaults: a slider the user has not moved shows the material's default and is not sent (the hidden
     "adjusted" field lists the moved ones), so the material's own defaults apply and follow a change of material.
     Reset puts every slider back to the material's values. */
  function materialDefaults(form) {
    var table = document.getElementById("material-defaults");
    var adjusted = form.elements.namedItem("adjusted");
    var material = form.elements.namedItem("material");
    if (!table || !adjusted || !material) return null;
    var defaults = JSON.parse(table.textContent);
    var sliders = Array.prototype.slice.call(form.querySelectorAll("input[data-adjustment]"));
    var reset = document.getElementById("reset-adjustments");
    var moved = {};
    adjusted.value.split(",").forEach(function (name) { if (name) moved[name] = true; });

    function sync() {
      adjusted.value = sliders.filter(function (s) { return moved[s.name]; }).map(function (s) { return s.name; }).join(",");
      sliders.forEach(function (slider) {
        slider.closest(".field").classList.toggle("is-default", !moved[slider.name]);
      });
      if (reset) reset.disabled = !adjusted.value;
    }

    function loadDefaults(keepMoved) {
      var values = defaults[material.value] || {};
      sliders.forEach(function (slider) {
        if (keepMoved && moved[slider.name]) return;
        delete moved[slider.name];
        if (values[slider.name] !== undefined) setField(form, slider.name, values[slider.name]);
      });
      sync();
    }

    sliders.forEach(function (slider) {
      slider.addEventListener("input", function () {
        if (settingFields) return;
        moved[slider.name] = true;
        sync();
      });
    });
    material.addEventListener("change", function () { if (!settingFields) loadDefaults(true); });
    if (reset) {
      reset.addEventListener("click", function () {
        moved = {};
        loadDefaults(false);
        form.dispatchEvent(new Event("change", { bubbles: true }));
      });
    }
    sync();
    return {
      // A preset: the material's defaults, then the preset's own adjustments as if moved.
      apply: function (adjustments) {
        moved = {};
        loadDefaults(false);
        Object.keys(adjustments || {}).forEach(function (name) {
          setField(form, name, adjustments[name]);  // a slider, or a box such as invert
          if (sliders.some(function (s) { return s.name === name; })) moved[name] = true;
        });
        sync();
      }
    };
  }

  function presets(form, defaults) {
    var data = document.getElementById("studio-presets");
    var field = form.querySelector(".preset-field");
    if (!data || !field) return;
    var list = JSON.parse(data.textContent);
    field.hidden = false;
    field.addEventListener("click", function (event) {
      var button = event.target.closest("[data-preset]");
      if (!button) return;
      var preset = list.find(function (p) { return String(p.id) === button.getAttribute("data-preset"); });
      if (!preset) return;
      setField(form, "material", preset.material);
      setField(form, "mode", preset.mode);
      setField(form, "line_interval_mm", preset.line_interval_mm);
      setField(form, "invert", false);
      setField(form, "isolate_subject", false);
      if (defaults) defaults.apply(preset.adjustments);
      field.querySelectorAll("[data-preset]").forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
      form.querySelector("#mode").dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  // Save as preset sends the settings on screen: the studio form's fields go along with the name.
  function savePreset(form) {
    var presetForm = document.getElementById("preset-form");
    if (!presetForm) return;
    presetForm.addEventListener("submit", function () {
      presetForm.querySelectorAll("input[data-copied]").forEach(function (input) { input.remove(); });
      new FormData(form).forEach(function (value, name) {
        if (name === "csrfmiddlewaretoken" || name === "idempotency_key") return;
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        input.value = value;
        input.setAttribute("data-copied", "");
        presetForm.appendChild(input);
      });
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
    form.querySelectorAll("[data-needs-script]").forEach(function (node) { node.hidden = false; });
    presets(form, materialDefaults(form));
    savePreset(form);
    document.addEventListener("scroll", syncScroll, true);
  });
})();
