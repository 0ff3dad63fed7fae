/* A file drop zone shared by the upload forms: it is highlighted while files are dragged over it, hands the dropped
   files to the page, and keeps a file dropped beside it from replacing the page with the image. */
(function () {
  "use strict";

  function hasFiles(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, "Files") !== -1;
  }

  window.intaglioDropZone = function (zone, onFiles) {
    var depth = 0;
    zone.addEventListener("dragenter", function (event) {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth += 1;
      zone.classList.add("is-dragover");
    });
    zone.addEventListener("dragover", function (event) {
      if (!hasFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    });
    zone.addEventListener("dragleave", function () {
      depth = Math.max(0, depth - 1);
      if (!depth) zone.classList.remove("is-dragover");
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      depth = 0;
      zone.classList.remove("is-dragover");
      if (event.dataTransfer && event.dataTransfer.files.length) onFiles(event.dataTransfer.files);
    });
    ["dragover", "drop"].forEach(function (name) {
      document.addEventListener(name, function (event) {
        if (hasFiles(event) && !zone.contains(event.target)) event.preventDefault();
      });
    });
  };
})();
