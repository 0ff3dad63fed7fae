// Engrave studio: slider read-outs, material defaults and presets, mode-specific settings, the laser settings and
// their sources, the layout (crop frame, turns, placement on the bed), and the preview canvas.
// The live preview's answers are htmx (hx-post on the settings form); the canvas draws them and loads the photo and
// the dot-for-dot burn from their own cacheable URLs.
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

  /* The preview canvas: one large picture of the simulated burn, the laser dots, the photo, or photo and burn side
     by side with a handle. Fit shows the whole piece; 1:1 and 2:1 show one or two screen pixels per dot and pan by
     dragging. Below 1:1 the dots are area-averaged here (every dot counts by the share of the pixel it covers), so
     the dither never beats against the screen's pixel grid; the burn arrives already averaged to the canvas size. */
  function PreviewViewer(form) {
    this.form = form;
    this.stage = document.getElementById("preview-stage");
    this.canvas = document.getElementById("preview-canvas");
    this.hint = document.getElementById("preview-hint");
    this.show = document.getElementById("preview-show");
    this.tab = "burn";
    this.zoom = "fit";
    this.split = 0.5;
    this.center = null;  // the dot at the centre of the canvas when zoomed
    this.data = null;    // the current answer: size, key, photo URL
    this.pictures = {};  // dots, burn (canvas size), burnFull, photo: loaded images for the current answer
    this.averaged = null;
    this.photoCache = {};
    this.bind();
  }

  PreviewViewer.prototype.bind = function () {
    var self = this;
    document.querySelectorAll(".preview-tabs [data-tab]").forEach(function (button) {
      button.addEventListener("click", function () { self.setTab(button.getAttribute("data-tab")); });
    });
    document.querySelectorAll(".preview-zoom [data-zoom]").forEach(function (button) {
      button.addEventListener("click", function () { self.setZoom(button.getAttribute("data-zoom")); });
    });
    var drag = null;
    this.canvas.addEventListener("pointerdown", function (event) {
      if (!self.data) return;
      drag = { x: event.clientX, y: event.clientY, center: self.center && self.center.slice() };
      self.canvas.setPointerCapture(event.pointerId);
      if (self.tab === "split" && self.zoom === "fit") self.moveSplit(event);
    });
    this.canvas.addEventListener("pointermove", function (event) {
      if (!drag) return;
      if (self.tab === "split" && self.zoom === "fit") { self.moveSplit(event); return; }
      if (self.zoom === "fit" || !drag.center) return;
      var scale = self.scale();
      var ratio = window.devicePixelRatio || 1;
      self.center = [drag.center[0] - (event.clientX - drag.x) * ratio / scale, drag.center[1] - (event.clientY - drag.y) * ratio / scale];
      self.draw();
    });
    var end = function () { drag = null; };
    this.canvas.addEventListener("pointerup", end);
    this.canvas.addEventListener("pointercancel", end);
    this.canvas.tabIndex = 0;
    this.canvas.addEventListener("keydown", function (event) {
      var step = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[event.key];
      if (!step) return;
      event.preventDefault();
      if (self.tab === "split" && self.zoom === "fit") { self.split = Math.min(1, Math.max(0, self.split + step[0] * 0.05)); }
      else if (self.center) { self.center = [self.center[0] + step[0] * 40, self.center[1] + step[1] * 40]; }
      self.draw();
    });
    if (window.ResizeObserver) new ResizeObserver(function () { self.draw(); }).observe(this.stage);
    else window.addEventListener("resize", function () { self.draw(); });
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target && event.detail.target.id === "preview") self.update();
    });
    this.update();
  };

  PreviewViewer.prototype.pressed = function (selector, attribute, value) {
    document.querySelectorAll(selector).forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.getAttribute(attribute) === value));
    });
  };

  // Which picture a preview request should carry for the current tab and zoom (the photo has its own URL): the
  // burn at the canvas's size, or dot for dot when zoomed in.
  PreviewViewer.prototype.needed = function () {
    if (this.tab === "dots") return "artwork";
    if (this.tab === "photo") return "";
    return this.zoom === "fit" ? "burn" : "burn-full";
  };

  PreviewViewer.prototype.have = function (needed) {
    var name = { artwork: "dots", burn: "burn", "burn-full": "burnFull" }[needed];
    var picture = name && this.pictures[name];
    return !name || Boolean(picture && this.data && picture.key === this.data.key);
  };

  // The picture the view needs may not have come with the last answer: ask again (the server's cache answers).
  PreviewViewer.prototype.request = function () {
    var needed = this.needed();
    this.show.value = needed || "burn";
    // While an answer is on its way it is not replaced (that aborts it): its arrival asks again if need be.
    var busy = document.querySelector("#preview-busy.htmx-request, #studio-form.htmx-request");
    if (this.data && !this.have(needed) && window.htmx && !busy) {
      window.htmx.trigger(this.form, "preview-needed");
    }
  };

  PreviewViewer.prototype.setTab = function (tab) {
    this.tab = tab;
    this.pressed(".preview-tabs [data-tab]", "data-tab", tab);
    this.stage.setAttribute("data-tab", tab);
    this.request();
    this.loadExtras();
    this.draw();
  };

  PreviewViewer.prototype.setZoom = function (zoom) {
    if (this.zoom === "fit" && zoom !== "fit" && this.data) this.center = [this.data.width / 2, this.data.height / 2];
    this.zoom = zoom;
    this.pressed(".preview-zoom [data-zoom]", "data-zoom", zoom);
    this.stage.setAttribute("data-zoom", zoom);
    this.request();
    this.loadExtras();
    this.draw();
  };

  PreviewViewer.prototype.moveSplit = function (event) {
    var rect = this.canvas.getBoundingClientRect();
    var box = this.fitBox();
    var ratio = window.devicePixelRatio || 1;
    this.split = Math.min(1, Math.max(0, ((event.clientX - rect.left) * ratio - box.x) / box.w));
    this.draw();
  };

  function loadImage(src, done) {
    var image = new Image();
    image.decoding = "async";
    image.onload = function () { done(image); };
    image.onerror = function () { done(null); };
    image.src = src;
    return image;
  }

  // A new answer swapped in: take its pictures, keep zoom, pan and tab. Each picture remembers the answer it came
  // with; an older one stays on screen until the one for these settings has come.
  PreviewViewer.prototype.update = function () {
    var area = document.getElementById("preview");
    if (!area || !area.dataset.key) { this.draw(); return; }
    var self = this;
    var sameSize = this.data && this.data.width === +area.dataset.width && this.data.height === +area.dataset.height;
    this.data = { key: area.dataset.key, width: +area.dataset.width, height: +area.dataset.height, photoUrl: area.dataset.photoUrl };
    if (!sameSize) {
      this.center = [this.data.width / 2, this.data.height / 2];
      this.pictures = {};
      this.averaged = null;
    }
    var key = this.data.key;
    var dots = document.getElementById("preview-artwork");
    var burn = document.getElementById("preview-burn");
    var pending = 0;
    var take = function (name, element) {
      pending += 1;
      loadImage(element.src, function (img) {
        if (img && self.data.key === key) {
          self.pictures[name] = { img: img, key: key };
          if (name === "dots") self.averaged = null;
        }
        pending -= 1;
        if (!pending) self.draw();
      });
    };
    if (dots) take("dots", dots);
    if (burn) take(burn.hasAttribute("data-full") ? "burnFull" : "burn", burn);
    this.loadExtras();
    if (!pending) this.draw();
    // Switched tab or zoom while this answer was on its way: ask for what the view shows now.
    this.request();
  };

  // The photo: once per framing, then from the browser's cache.
  PreviewViewer.prototype.loadExtras = function () {
    var self = this;
    var data = this.data;
    if (!data) return;
    if ((this.tab === "photo" || this.tab === "split") && data.photoUrl) {
      if (this.photoCache[data.photoUrl]) this.pictures.photo = this.photoCache[data.photoUrl];
      else {
        this.photoCache[data.photoUrl] = null;
        loadImage(data.photoUrl, function (img) {
          self.photoCache[data.photoUrl] = img;
          if (self.data && self.data.photoUrl === data.photoUrl) { self.pictures.photo = img; self.draw(); }
        });
      }
    }
  };

  // Device pixels per dot.
  PreviewViewer.prototype.scale = function () {
    var ratio = window.devicePixelRatio || 1;
    if (this.zoom !== "fit") return Number(this.zoom) * ratio;
    return this.fitBox().w / this.data.width;
  };

  PreviewViewer.prototype.fitBox = function () {
    var w = this.canvas.width, h = this.canvas.height;
    var s = Math.min(w / this.data.width, h / this.data.height);
    var bw = Math.max(1, Math.round(this.data.width * s)), bh = Math.max(1, Math.round(this.data.height * s));
    return { x: Math.round((w - bw) / 2), y: Math.round((h - bh) / 2), w: bw, h: bh };
  };

  // The canvas fills the stage's width; its height follows the piece's shape, within the stage's limits.
  PreviewViewer.prototype.size = function () {
    var ratio = window.devicePixelRatio || 1;
    var width = this.stage.clientWidth;
    // On a phone the pinned preview takes about two fifths of the screen, leaving the rest to the settings; on a
    // desktop it fills the window below the tabs, warnings and facts.
    var phone = window.matchMedia("(max-width: 900px)").matches;
    var maxHeight = phone ? window.innerHeight * 0.4 : Math.max(360, window.innerHeight - 200);
    var aspect = this.data ? this.data.height / this.data.width : 0.75;
    var height = Math.max(160, Math.min(maxHeight, width * aspect));
    this.canvas.style.height = Math.round(height) + "px";
    var w = Math.round(width * ratio), h = Math.round(height * ratio);
    if (this.canvas.width !== w || this.canvas.height !== h) { this.canvas.width = w; this.canvas.height = h; this.averaged = null; }
  };

  /* Area-averaged dots at w × h: separable box resampling with exact overlaps, in linear light (the dots are black
     or white, so the average is the share of the pixel the laser marks). */
  function averageDots(image, w, h) {
    var sw = image.naturalWidth, sh = image.naturalHeight;
    var scratch = document.createElement("canvas");
    scratch.width = sw; scratch.height = sh;
    var sctx = scratch.getContext("2d", { willReadFrequently: true });
    sctx.drawImage(image, 0, 0);
    var src = sctx.getImageData(0, 0, sw, sh).data;
    function weights(n, m) {  // for each of m targets: [first source index, weights...]
      var out = [], step = n / m;
      for (var t = 0; t < m; t += 1) {
        var a = t * step, b = a + step, first = Math.floor(a), list = [];
        for (var i = first; i < Math.min(n, Math.ceil(b)); i += 1) list.push((Math.min(b, i + 1) - Math.max(a, i)) / step);
        out.push([first, list]);
      }
      return out;
    }
    var wx = weights(sw, w), wy = weights(sh, h);
    var rows = new Float32Array(sh * w);
    for (var y = 0; y < sh; y += 1) {
      var base = y * sw * 4;
      for (var t = 0; t < w; t += 1) {
        var first = wx[t][0], list = wx[t][1], sum = 0;
        for (var k = 0; k < list.length; k += 1) sum += list[k] * src[base + (first + k) * 4];
        rows[y * w + t] = sum / 255;
      }
    }
    var out = new ImageData(w, h);
    for (var ty = 0; ty < h; ty += 1) {
      var f = wy[ty][0], l = wy[ty][1];
      for (var tx = 0; tx < w; tx += 1) {
        var v = 0;
        for (var j = 0; j < l.length; j += 1) v += l[j] * rows[(f + j) * w + tx];
        // Linear coverage → sRGB, so half the dots look like half the ink.
        var c = v <= 0.0031308 ? 12.92 * v : 1.055 * Math.pow(v, 1 / 2.4) - 0.055;
        var o = (ty * w + tx) * 4;
        out.data[o] = out.data[o + 1] = out.data[o + 2] = Math.round(c * 255);
        out.data[o + 3] = 255;
      }
    }
    return out;
  }

  PreviewViewer.prototype.draw = function () {
    if (!this.canvas) return;
    this.size();
    var ctx = this.canvas.getContext("2d");
    ctx.fillStyle = "#ebe6de";
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    if (!this.data) return;
    var img = function (picture) { return picture ? picture.img : null; };
    var pictures = { dots: img(this.pictures.dots), burn: img(this.pictures.burn), burnFull: img(this.pictures.burnFull), photo: this.pictures.photo };
    var missing = "";
    if (this.zoom === "fit") {
      var box = this.fitBox();
      if (this.tab === "dots") {
        if (pictures.dots) {
          if (box.w >= this.data.width) { ctx.imageSmoothingEnabled = false; ctx.drawImage(pictures.dots, box.x, box.y, box.w, box.h); }
          else {
            var a = this.averaged;
            if (!a || a.width !== box.w || a.height !== box.h || a.source !== pictures.dots) {
              this.averaged = { width: box.w, height: box.h, source: pictures.dots, pixels: averageDots(pictures.dots, box.w, box.h) };
            }
            ctx.putImageData(this.averaged.pixels, box.x, box.y);
          }
        } else missing = "Loading the dots…";
      } else {
        var burn = pictures.burn, photo = pictures.photo;
        ctx.imageSmoothingEnabled = true;
        ctx.imageSmoothingQuality = "high";
        if (this.tab === "burn" || this.tab === "split") {
          if (burn) ctx.drawImage(burn, box.x, box.y, box.w, box.h); else missing = "Loading the burn…";
        }
        if (this.tab === "photo" || this.tab === "split") {
          var cut = this.tab === "split" ? Math.round(box.w * this.split) : box.w;
          if (photo && cut > 0) {
            ctx.drawImage(photo, 0, 0, photo.naturalWidth * cut / box.w, photo.naturalHeight, box.x, box.y, cut, box.h);
          } else if (!photo) missing = "Loading the photo…";
          if (this.tab === "split") this.drawHandle(ctx, box.x + cut, box);
        }
      }
    } else {
      var scale = this.scale();
      var cw = this.canvas.width, ch = this.canvas.height;
      // Keep the view on the piece.
      var halfW = cw / 2 / scale, halfH = ch / 2 / scale;
      this.center = [
        this.data.width <= 2 * halfW ? this.data.width / 2 : Math.min(this.data.width - halfW, Math.max(halfW, this.center[0])),
        this.data.height <= 2 * halfH ? this.data.height / 2 : Math.min(this.data.height - halfH, Math.max(halfH, this.center[1]))
      ];
      var ox = Math.round(cw / 2 - this.center[0] * scale), oy = Math.round(ch / 2 - this.center[1] * scale);
      var image = null;
      if (this.tab === "dots") image = pictures.dots;
      else if (this.tab === "photo") image = pictures.photo;
      else image = pictures.burnFull || pictures.burn;
      if (image) {
        // One dot is a whole number of screen pixels: drawn crisp, never smoothed into grey.
        ctx.imageSmoothingEnabled = this.tab === "photo";
        ctx.drawImage(image, ox, oy, this.data.width * scale, this.data.height * scale);
        if (this.tab !== "dots" && this.tab !== "photo" && !pictures.burnFull) missing = "Loading the burn dot for dot…";
      } else missing = "Loading…";
      if (this.tab === "split") missing = "Before / after works at Fit: this is the burn.";
    }
    this.hint.hidden = !missing;
    this.hint.textContent = missing;
    this.canvas.setAttribute("aria-label", {
      burn: "The simulated burn on the material", dots: "The laser dots (black fires)",
      photo: "Your photo, framed as the artwork", split: "Your photo beside the simulated burn"
    }[this.tab]);
  };

  PreviewViewer.prototype.drawHandle = function (ctx, x, box) {
    var ratio = window.devicePixelRatio || 1;
    ctx.fillStyle = "#fff";
    ctx.fillRect(x - ratio, box.y, 2 * ratio, box.h);
    ctx.beginPath();
    ctx.arc(x, box.y + box.h / 2, 14 * ratio, 0, 2 * Math.PI);
    ctx.fill();
    ctx.strokeStyle = "rgba(28, 31, 43, .45)";
    ctx.lineWidth = ratio;
    ctx.stroke();
    ctx.fillStyle = "#1c1f2b";
    ctx.font = (12 * ratio) + "px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText("◀ ▶", x, box.y + box.h / 2);
  };

  /* The Laser group: an empty box follows its source. After each preview its placeholder shows the value followed
     and the line under it says where that value comes from (or that it is the user's own). When the machine's kind
     of laser cannot mark the material, the group says why and Prepare is refused with the same words. */
  var SCAN_LABELS = { horizontal: "One way", bidirectional: "Both ways" };
  // Under each box, its source in a word or two (EffectiveLaser's source codes); the group says the long names once.
  var SOURCE_SHORT = { you: "Your value", calibration: "Your calibration", suggestion: "Material suggestion", speed: "Run-up for this speed" };

  function laserValueText(name, value) {
    if (name === "air_assist") return value ? "On" : "Off";
    if (name === "scan") return SCAN_LABELS[value] || value;
    return String(Math.round(value * 100) / 100);
  }

  function laserGroup(form) {
    var group = document.getElementById("laser-group");
    if (!group) return;
    var refusalBox = document.getElementById("laser-refusal");
    var origin = document.getElementById("laser-origin");
    var prepare = document.getElementById("prepare-button");
    var prepareNote = document.getElementById("prepare-refused");
    var preparable = prepare && !prepare.disabled;

    function update() {
      var data = document.getElementById("preview-laser");
      if (!data) return;
      var state = JSON.parse(data.textContent) || {};
      var laser = state.laser;
      var refusal = state.refusal;
      var origins = {};
      group.querySelectorAll("[data-laser]").forEach(function (field) {
        var name = field.getAttribute("data-laser");
        var control = field.querySelector("input, select");
        var note = field.querySelector(".laser-source");
        var entry = laser && laser[name];
        field.classList.toggle("is-followed", Boolean(entry) && entry.source !== "you");
        field.dataset.value = entry ? String(entry.value) : "";
        field.dataset.source = entry ? entry.source : "";
        if (!entry) {
          if (control.tagName === "INPUT") control.placeholder = "";
          note.textContent = "";
          return;
        }
        var shown = laserValueText(name, entry.value);
        if (control.tagName === "INPUT") control.placeholder = shown;
        else control.querySelector("[data-follow]").textContent = "Follow (" + shown + ")";
        note.textContent = SOURCE_SHORT[entry.source] || entry.label;
        note.title = entry.source === "you" ? "" : "From " + entry.label;
        if (entry.source === "suggestion" || entry.source === "calibration") origins[entry.label] = true;
      });
      // The long names of the sources, said once for the group (a run-up needs no more than its short name).
      var named = Object.keys(origins);
      origin.textContent = named.length ? "Empty boxes follow " + named.join("; ") + "." : "";
      var unusable = refusal && refusal[0] === "unusable_combination";
      group.classList.toggle("is-unusable", Boolean(unusable));
      refusalBox.hidden = !unusable;
      refusalBox.textContent = unusable ? refusal[1] : "";
      if (prepare && preparable) {
        prepare.disabled = Boolean(refusal);
        prepareNote.hidden = !refusal;
        prepareNote.textContent = refusal ? refusal[1] : "";
      }
    }

    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target && event.detail.target.id === "preview") update();
    });
    update();
  }

  /* The Layout group: crop by dragging a frame on the whole upright photo (drag inside to move it, a corner to
     resize, elsewhere to draw a new one), turn in 90° steps, and place the piece on the bed: an anchor and an
     offset, drawn on the machine's work area. The crop is sent as fractions "x,y,w,h" of the upright photo. */
  var MIN_CROP = 0.05;

  function clamp(value, low, high) { return Math.min(high, Math.max(low, value)); }

  function cropPicker(form) {
    var picker = document.getElementById("crop-picker");
    var frame = document.getElementById("crop-frame");
    var field = document.getElementById("layout_crop");
    var readout = document.getElementById("crop-readout");
    var reset = document.getElementById("crop-reset");
    if (!picker || !frame || !field) return;
    var crop = [0, 0, 1, 1];
    var parts = field.value.split(",").map(Number);
    if (parts.length === 4 && parts.every(function (v) { return isFinite(v); })) crop = parts;

    function whole() { return crop[0] <= 0 && crop[1] <= 0 && crop[2] >= 1 && crop[3] >= 1; }

    function draw() {
      frame.style.left = crop[0] * 100 + "%";
      frame.style.top = crop[1] * 100 + "%";
      frame.style.width = crop[2] * 100 + "%";
      frame.style.height = crop[3] * 100 + "%";
      var x0 = crop[0] * 100, y0 = crop[1] * 100, x1 = (crop[0] + crop[2]) * 100, y1 = (crop[1] + crop[3]) * 100;
      var shades = { top: [0, 0, 100, y0], bottom: [0, y1, 100, 100 - y1], left: [0, y0, x0, y1 - y0], right: [x1, y0, 100 - x1, y1 - y0] };
      picker.querySelectorAll("[data-shade]").forEach(function (shade) {
        var box = shades[shade.getAttribute("data-shade")];
        shade.style.left = box[0] + "%"; shade.style.top = box[1] + "%";
        shade.style.width = box[2] + "%"; shade.style.height = box[3] + "%";
      });
      picker.classList.toggle("is-cropped", !whole());
      reset.disabled = whole();
      readout.textContent = whole()
        ? "The whole photo. Drag on it to frame the part to engrave."
        : "Keeping " + Math.round(crop[2] * 100) + " % × " + Math.round(crop[3] * 100) + " % of the photo.";
    }

    function commit() {
      var value = whole() ? "" : crop.map(function (v) { return String(Math.round(v * 10000) / 10000); }).join(",");
      if (value === field.value) return;
      field.value = value;
      form.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function point(event) {
      var rect = picker.getBoundingClientRect();
      return [clamp((event.clientX - rect.left) / rect.width, 0, 1), clamp((event.clientY - rect.top) / rect.height, 0, 1)];
    }

    function fromCorners(a, b) {
      var x0 = Math.min(a[0], b[0]), y0 = Math.min(a[1], b[1]);
      var x1 = Math.max(a[0], b[0]), y1 = Math.max(a[1], b[1]);
      return [x0, y0, Math.max(MIN_CROP, x1 - x0), Math.max(MIN_CROP, y1 - y0)];
    }

    function fit(box) {  // inside the photo, at least MIN_CROP each way
      var w = clamp(box[2], MIN_CROP, 1), h = clamp(box[3], MIN_CROP, 1);
      return [clamp(box[0], 0, 1 - w), clamp(box[1], 0, 1 - h), w, h];
    }

    var drag = null;
    picker.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      var at = point(event);
      var handle = event.target.getAttribute && event.target.getAttribute("data-handle");
      if (handle) {
        // The opposite corner stays put.
        var fixed = [handle.indexOf("w") >= 0 ? crop[0] + crop[2] : crop[0], handle.indexOf("n") >= 0 ? crop[1] + crop[3] : crop[1]];
        drag = { kind: "corner", fixed: fixed };
      } else if (event.target === frame && !whole()) {
        drag = { kind: "move", start: at, from: crop.slice() };
      } else {
        drag = { kind: "corner", fixed: at, fresh: true };
      }
      picker.setPointerCapture(event.pointerId);
    });
    picker.addEventListener("pointermove", function (event) {
      if (!drag) return;
      var at = point(event);
      if (drag.kind === "move") crop = fit([drag.from[0] + at[0] - drag.start[0], drag.from[1] + at[1] - drag.start[1], drag.from[2], drag.from[3]]);
      else crop = fit(fromCorners(drag.fixed, at));
      drag.moved = true;
      draw();
    });
    var end = function () {
      if (!drag) return;
      if (drag.fresh && !drag.moved) { drag = null; return; }  // a click, not a drag: keep the frame
      drag = null;
      commit();
    };
    picker.addEventListener("pointerup", end);
    picker.addEventListener("pointercancel", end);
    frame.addEventListener("keydown", function (event) {
      var step = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[event.key];
      if (!step) return;
      event.preventDefault();
      var d = 0.02;
      if (event.shiftKey) crop = fit([crop[0], crop[1], crop[2] + step[0] * d, crop[3] + step[1] * d]);
      else crop = fit([crop[0] + step[0] * d, crop[1] + step[1] * d, crop[2], crop[3]]);
      draw();
      commit();
    });
    reset.addEventListener("click", function () { crop = [0, 0, 1, 1]; draw(); commit(); });
    draw();
  }

  function turnButtons(form) {
    var field = document.getElementById("layout_rotate_deg");
    var readout = document.getElementById("rotate-readout");
    if (!field) return;
    form.querySelectorAll("[data-turn]").forEach(function (button) {
      button.addEventListener("click", function () {
        field.value = String(((Number(field.value) || 0) + Number(button.getAttribute("data-turn")) + 360) % 360);
        readout.textContent = field.value + "°";
        form.dispatchEvent(new Event("change", { bubbles: true }));
      });
    });
  }

  var SVG = "http://www.w3.org/2000/svg";

  function svgNode(name, attributes) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    return node;
  }

  /* The bed outline: the machine's work area seen from above (origin front left), the piece's rectangle where the
     anchor and offset put it (a piece against the left or right edge moves in by its overscan run-up, as the
     G-code does). Red when it leaves the work area. */
  function bedOutline(form) {
    var svg = document.getElementById("bed");
    var machine = form.elements.namedItem("machine");
    if (!svg || !machine) return;
    var readout = document.getElementById("bed-readout");

    function draw() {
      var option = machine.options[machine.selectedIndex];
      var area = (option && option.getAttribute("data-area") || "").split(",").map(Number);
      var preview = document.getElementById("preview");
      var w = preview && +preview.dataset.widthMm, h = preview && +preview.dataset.heightMm;
      if (area.length !== 2 || !area[0] || !area[1] || !w || !h) return;
      var bw = area[0], bh = area[1];
      var anchor = (form.querySelector("input[name=layout_anchor]:checked") || {}).value || "bottom-left";
      var ox = Number(form.elements.namedItem("layout_offset_x_mm").value) || 0;
      var oy = Number(form.elements.namedItem("layout_offset_y_mm").value) || 0;
      var overscan = 0;
      var data = document.getElementById("preview-laser");
      var state = data ? JSON.parse(data.textContent) || {} : {};
      if (state.laser && state.laser.overscan_mm) overscan = Number(state.laser.overscan_mm.value) || 0;
      var x = anchor.indexOf("left") >= 0 ? overscan : anchor.indexOf("right") >= 0 ? bw - w - overscan : (bw - w) / 2;
      var y = anchor.indexOf("bottom") >= 0 || anchor === "bottom" ? 0 : anchor.indexOf("top") >= 0 ? bh - h : (bh - h) / 2;
      x += ox; y += oy;
      var outside = x - overscan < -0.01 || y < -0.01 || x + w + overscan > bw + 0.01 || y + h > bh + 0.01;
      var pad = Math.max(bw, bh) * 0.04;
      svg.setAttribute("viewBox", [-pad, -pad, bw + 2 * pad, bh + 2 * pad].join(" "));
      svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      svg.appendChild(svgNode("rect", { x: 0, y: 0, width: bw, height: bh, class: "bed-area" }));
      // The origin: GRBL's 0,0 at the front left.
      svg.appendChild(svgNode("circle", { cx: 0, cy: bh, r: pad * 0.45, class: "bed-origin" }));
      var top = bh - y - h;  // SVG's y runs down; the bed's runs towards the back
      svg.appendChild(svgNode("rect", { x: Math.max(-pad, x - overscan), y: top, width: w + 2 * overscan, height: h, class: "bed-overscan" }));
      svg.appendChild(svgNode("rect", { x: x, y: top, width: w, height: h, class: "bed-piece" + (outside ? " is-outside" : "") }));
      svg.classList.toggle("is-outside", outside);
      readout.textContent = (outside ? "Past the work area’s edge. " : "") + "The piece’s front-left corner at X " +
        (Math.round(x * 10) / 10) + ", Y " + (Math.round(y * 10) / 10) + " mm on a " + bw + " × " + bh + " mm bed.";
    }

    form.addEventListener("input", draw);
    form.addEventListener("change", draw);
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target && event.detail.target.id === "preview") draw();
    });
    draw();
  }

  /* "Version N is being prepared" goes once version N's files are ready (or it failed): the versions panel is
     polled, and each answer says what state every version is in. */
  function clearPreparedMessages() {
    var sweep = function () {
      document.querySelectorAll('.messages [data-tags^="preparing-"]').forEach(function (message) {
        var number = message.getAttribute("data-tags").replace("preparing-", "");
        var row = document.querySelector('.version-row[data-version="' + number + '"]');
        var state = row && row.dataset.state;
        if (state && state !== "queued" && state !== "running") {
          var box = message.parentNode;
          message.remove();
          if (box && !box.children.length) box.remove();
        }
      });
    };
    document.body.addEventListener("htmx:afterSwap", sweep);
    sweep();
  }

  // A select fires "input" and then "change": the form previews on both, and the second request would cancel the
  // first in flight. Its change alone asks for the preview.
  function onePreviewPerSelect(form) {
    form.querySelectorAll("select").forEach(function (select) {
      select.addEventListener("input", function (event) { event.stopPropagation(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("studio-form");
    if (!form) return;
    onePreviewPerSelect(form);
    showValues(form);
    modeOptions(form);
    form.querySelectorAll("[data-needs-script]").forEach(function (node) { node.hidden = false; });
    presets(form, materialDefaults(form));
    savePreset(form);
    laserGroup(form);
    cropPicker(form);
    turnButtons(form);
    bedOutline(form);
    if (document.getElementById("preview-canvas")) new PreviewViewer(form);
    clearPreparedMessages();
  });
})();
