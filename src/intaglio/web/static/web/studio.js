/* Studio pages: photo uploads with per-file progress, and confirmation dialogs.
   Loaded as a static file (the Content-Security-Policy allows no inline script). Without it the upload form
   still posts normally and the delete link opens a confirmation page. */
(function () {
  "use strict";

  var PARALLEL_UPLOADS = 2;

  function csrfToken(form) {
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      if (headers["X-CSRFToken"]) return headers["X-CSRFToken"];
    } catch (ignored) { /* fall back to the form's hidden field */ }
    var field = form.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function formatSize(bytes) {
    if (bytes < 1024) return bytes + " byte" + (bytes === 1 ? "" : "s");
    var units = ["KB", "MB", "GB"];
    var value = bytes / 1024;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return value.toFixed(1) + " " + units[unit];
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* One row in the upload list: name, size, a progress bar and a status line. */
  function UploadItem(list, file) {
    this.file = file;
    this.node = element("li", "upload-item is-waiting");
    var body = element("div", "upload-item-body");
    var top = element("div", "upload-item-top");
    top.appendChild(element("span", "upload-name", file.name || "photo"));
    top.appendChild(element("span", "upload-size", formatSize(file.size)));
    this.bar = element("progress", "progress");
    this.bar.max = 100;
    this.bar.value = 0;
    this.bar.setAttribute("aria-label", "Upload of " + (file.name || "photo"));
    this.status = element("p", "upload-status", "Waiting…");
    this.status.setAttribute("aria-live", "polite");
    body.appendChild(top);
    body.appendChild(this.bar);
    body.appendChild(this.status);
    this.dismiss = element("button", "upload-dismiss");
    this.dismiss.type = "button";
    this.dismiss.setAttribute("aria-label", "Remove " + (file.name || "photo") + " from this list");
    this.dismiss.innerHTML = '<svg class="icon" viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" aria-hidden="true" focusable="false"><path d="M7 7l10 10M17 7 7 17"/></svg>';
    this.dismiss.hidden = true;
    var node = this.node;
    this.dismiss.addEventListener("click", function () {
      var next = node.nextElementSibling || node.previousElementSibling;
      node.remove();
      if (!list.children.length) list.hidden = true;
      else if (next) { var button = next.querySelector(".upload-dismiss:not([hidden])"); if (button) button.focus(); }
    });
    this.node.appendChild(body);
    this.node.appendChild(this.dismiss);
    list.appendChild(this.node);
    list.hidden = false;
  }

  UploadItem.prototype.setState = function (state, message) {
    this.node.className = "upload-item is-" + state;
    this.status.textContent = message;
  };

  UploadItem.prototype.progress = function (percent) {
    this.bar.value = percent;
    this.status.textContent = "Uploading… " + percent + "%";
  };

  UploadItem.prototype.done = function (job) {
    this.bar.value = 100;
    this.setState("done", "Uploaded. ");
    if (job && job.url) {
      var link = element("a", "", "Open its job");
      link.href = job.url;
      this.status.appendChild(link);
    }
    this.dismiss.hidden = false;
  };

  UploadItem.prototype.fail = function (message) {
    this.setState("failed", message);
    this.status.setAttribute("role", "alert");
    this.dismiss.hidden = false;
  };

  function errorMessage(xhr) {
    try {
      var body = JSON.parse(xhr.responseText);
      if (body && body.error && body.error.message) return body.error.message;
    } catch (ignored) { /* not JSON: fall through */ }
    if (xhr.status === 413) return "This upload is too large.";
    if (xhr.status === 401 || xhr.status === 403) return "Your session has ended. Reload the page and try again.";
    return "The server could not take this file (error " + xhr.status + "). Please try again.";
  }

  function setUpUploads(form) {
    var input = form.querySelector("input[type=file]");
    var zone = form.querySelector(".upload-zone");
    var list = document.getElementById("upload-list");
    var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
    var tooLarge = form.getAttribute("data-too-large");
    var changedEvent = form.getAttribute("data-jobs-event");
    var queue = [];
    var running = 0;

    function announceNewJob() {
      if (!changedEvent) return;
      if (window.htmx) window.htmx.trigger(document.body, changedEvent);
      else document.body.dispatchEvent(new CustomEvent(changedEvent));
    }

    function send(item) {
      running += 1;
      var data = new FormData();
      data.append(input.name, item.file, item.file.name || "photo");
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-CSRFToken", csrfToken(form));
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) item.progress(Math.min(100, Math.round((100 * event.loaded) / event.total)));
      });
      xhr.upload.addEventListener("load", function () {
        item.bar.value = 100;
        item.setState("checking", "Checking the photo…");
      });
      xhr.addEventListener("load", function () {
        var job = null;
        if (xhr.status >= 200 && xhr.status < 300) {
          try { job = (JSON.parse(xhr.responseText).jobs || [])[0]; } catch (ignored) { /* not our answer */ }
        }
        if (job) {
          item.done(job);
          announceNewJob();
        } else if (xhr.status >= 200 && xhr.status < 300) {
          // Redirected somewhere else (such as the login page): the photo was not stored.
          item.fail("Your session has ended. Reload the page, log in and try again.");
        } else {
          item.fail(errorMessage(xhr));
        }
      });
      xhr.addEventListener("error", function () {
        item.fail("The upload was interrupted. Check your connection and try again.");
      });
      xhr.addEventListener("loadend", function () {
        running -= 1;
        pump();
      });
      item.setState("uploading", "Uploading… 0%");
      xhr.send(data);
    }

    function pump() {
      while (running < PARALLEL_UPLOADS && queue.length) send(queue.shift());
    }

    function accept(files) {
      for (var i = 0; i < files.length; i += 1) {
        var item = new UploadItem(list, files[i]);
        if (maxBytes && files[i].size > maxBytes) item.fail(tooLarge);
        else queue.push(item);
      }
      pump();
    }

    input.addEventListener("change", function () {
      if (input.files && input.files.length) accept(input.files);
      input.value = "";
    });

    window.intaglioDropZone(zone, accept);
  }

  function setUpDialogs() {
    document.addEventListener("click", function (event) {
      var opener = event.target.closest("[data-open-dialog]");
      if (!opener) return;
      var dialog = document.getElementById(opener.getAttribute("data-open-dialog"));
      if (!dialog || typeof dialog.showModal !== "function") return; // the link's own page asks instead
      event.preventDefault();
      dialog.showModal();
    });
  }

  function start() {
    var form = document.getElementById("upload-form");
    if (form) setUpUploads(form);
    setUpDialogs();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
