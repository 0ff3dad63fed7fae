// Jewellery studio: choosing and dropping reference images, the "no stones" switch, one generate per click, and
// keeping open prompt panels open while the generations list refreshes. The prompt preview itself is htmx
// (hx-post on the generate form). Without this file every form still posts and every page still works.
(function () {
  "use strict";

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // As the pages' sizes read (Django's filesizeformat): "1 byte", "512 bytes", "1.5 KB", "2.4 MB".
  function formatSize(bytes) {
    if (bytes < 1024) return bytes + " byte" + (bytes === 1 ? "" : "s");
    var units = ["KB", "MB", "GB"];
    var value = bytes / 1024;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return value.toFixed(1) + " " + units[unit];
  }

  /* New piece: the chosen images as small tiles, drag and drop onto the zone, limits checked before sending. */
  function setUpReferences(form) {
    var input = form.querySelector("input[type=file]");
    var zone = form.querySelector(".upload-zone");
    var list = document.getElementById("chosen-list");
    var problem = document.getElementById("chosen-error");
    var submit = document.getElementById("piece-submit");
    var count = document.getElementById("chosen-count");
    var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
    var maxFiles = parseInt(form.getAttribute("data-max-files"), 10) || 10;
    var tooLarge = form.getAttribute("data-too-large");
    var urls = [];
    var canSet = typeof DataTransfer === "function";

    function setFiles(files) {
      if (!canSet) return;
      var transfer = new DataTransfer();
      files.forEach(function (file) { transfer.items.add(file); });
      input.files = transfer.files;
    }

    function check() {
      var files = Array.prototype.slice.call(input.files || []);
      var message = "";
      if (files.length > maxFiles) message = "Choose at most " + maxFiles + " images; " + files.length + " are chosen.";
      files.forEach(function (file) {
        if (!message && maxBytes && file.size > maxBytes) message = "“" + file.name + "” " + tooLarge + ".";
      });
      problem.textContent = message;
      problem.hidden = !message;
      return !message;
    }

    function render() {
      urls.forEach(function (url) { URL.revokeObjectURL(url); });
      urls = [];
      list.textContent = "";
      var files = Array.prototype.slice.call(input.files || []);
      files.forEach(function (file, index) {
        var item = element("li", "chosen-item");
        var picture = element("span", "chosen-picture");
        if (/^image\/(jpeg|png|webp|gif)$/.test(file.type)) {
          var url = URL.createObjectURL(file);
          urls.push(url);
          var img = element("img");
          img.src = url;
          img.alt = "";
          picture.appendChild(img);
        } else {
          picture.appendChild(element("span", "chosen-type", (file.name.split(".").pop() || "file").toUpperCase()));
        }
        item.appendChild(picture);
        var text = element("span", "chosen-text");
        text.appendChild(element("span", "chosen-name", file.name || "image"));
        text.appendChild(element("span", "chosen-size", formatSize(file.size)));
        item.appendChild(text);
        if (canSet) {
          var remove = element("button", "chosen-remove");
          remove.type = "button";
          remove.setAttribute("aria-label", "Remove " + (file.name || "this image"));
          remove.innerHTML = '<svg class="icon" viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" aria-hidden="true" focusable="false"><path d="M7 7l10 10M17 7 7 17"/></svg>';
          remove.addEventListener("click", function () {
            var kept = Array.prototype.slice.call(input.files).filter(function (_, i) { return i !== index; });
            setFiles(kept);
            render();
            (list.querySelector(".chosen-remove") || zone).focus();
          });
          item.appendChild(remove);
        }
        list.appendChild(item);
      });
      list.hidden = files.length === 0;
      if (count) {
        count.textContent = files.length + " image" + (files.length === 1 ? "" : "s") + " chosen";
        count.hidden = files.length === 0;
      }
      check();
    }

    input.addEventListener("change", render);

    window.intaglioDropZone(zone, function (files) {
      if (canSet) setFiles(Array.prototype.slice.call(input.files || []).concat(Array.prototype.slice.call(files)));
      else input.files = files;
      render();
    });

    form.addEventListener("submit", function (event) {
      if (!check()) {
        event.preventDefault();
        problem.focus();
        return;
      }
      if (submit) {
        submit.disabled = true;
        submit.classList.add("is-busy");
        submit.textContent = "Uploading…";
      }
    });
    // Coming back with the browser's back button: the button works again.
    window.addEventListener("pageshow", function () {
      if (submit) { submit.disabled = false; submit.classList.remove("is-busy"); }
      render();
    });
  }

  /* Step 2: "No stones" greys out the stone rows (the server ignores them then). */
  function setUpStones() {
    var toggle = document.getElementById("no-stones");
    var rows = document.getElementById("stone-rows");
    if (!toggle || !rows || toggle.dataset.ready) return;
    toggle.dataset.ready = "1";
    var update = function () {
      rows.classList.toggle("is-off", toggle.checked);
      rows.querySelectorAll("select, input").forEach(function (field) { field.disabled = toggle.checked; });
    };
    toggle.addEventListener("change", update);
    update();
  }

  /* One generation per click: the button waits for the page that answers (the idempotency key covers the rest). */
  function setUpGenerate() {
    var form = document.getElementById("generate-form");
    var button = document.getElementById("generate-button");
    if (!form || !button) return;
    form.addEventListener("submit", function () {
      window.setTimeout(function () {
        button.disabled = true;
        button.textContent = "Starting…";
      }, 0);
    });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) { button.disabled = false; button.textContent = "Generate images"; }
    });
  }

  /* The generations list is replaced while work is in progress; prompt panels the reader opened stay open. */
  function keepDetailsOpen() {
    var open = [];
    document.body.addEventListener("htmx:beforeSwap", function (event) {
      if (!event.detail.target || event.detail.target.id !== "generations") return;
      open = Array.prototype.map.call(event.detail.target.querySelectorAll("details[open]"), function (d) { return d.id; });
    });
    document.body.addEventListener("htmx:afterSwap", function () {
      open.forEach(function (id) {
        var details = id && document.getElementById(id);
        if (details) details.open = true;
      });
      open = [];
    });
  }

  function start() {
    var pieceForm = document.getElementById("piece-form");
    if (pieceForm) setUpReferences(pieceForm);
    setUpStones();
    // Step 2's form arrives by htmx when the analysis finishes.
    document.body.addEventListener("htmx:afterSettle", setUpStones);
    setUpGenerate();
    keepDetailsOpen();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
