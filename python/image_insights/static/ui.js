// The analysis page: sends the chosen, dropped or linked image to the API and shows the answer.
// Plain DOM code, no framework and no build step; API values are only ever set as text.
"use strict";

(function () {
  const UPLOAD_PATH = "/v1/image/analysis";
  const URL_PATH = "/v1/image/analysis/url";
  const KEY_STORAGE = "image-insights-api-key";
  const KNOWN_METRICS = ["brightness", "median", "histogram"];
  const DEFAULT_METRICS = new Set(KNOWN_METRICS);
  // Fields shown in their own place; any other number the API adds goes to "More metrics".
  const PLACED = new Set([
    "brightness_score", "average_luminance", "median_luminance", "histogram",
    "edge_brightness_score", "edge_average_luminance", "edge_mode", "edge_colors",
    "width", "height", "algorithm", "cached", "processing_time_ms",
    "orientation", "text", "placeholder", "regions", "frames", "color_profile",
  ]);
  // The only caption and scrim colours the API names, as CSS colours.
  const TEXT_COLOURS = { white: "#ffffff", black: "#000000" };
  const SAMPLE_CAPTION = "Readable caption";
  const THUMBHASH_PNG = /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/;
  const REGION_FIELDS = new Set(["name", "x", "y", "w", "h", "text"]);
  const COLOUR = /^#[0-9a-f]{6}$/i;

  const $ = (id) => document.getElementById(id);
  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = String(text);
    return node;
  };

  let lastRequest = null; // replayed once an API key has been entered
  let previewUrl = null;

  // --- options ---------------------------------------------------------------------------

  function renderMetricChoices(names) {
    const box = $("metric-choices");
    box.replaceChildren();
    for (const name of names) {
      const label = el("label", "choice");
      const input = el("input");
      input.type = "checkbox";
      input.name = "metrics";
      input.value = name;
      input.checked = DEFAULT_METRICS.has(name);
      label.append(input, " " + name);
      box.append(label);
    }
  }

  // Later versions of the API accept more metric names: take them from its own document.
  async function discoverMetrics() {
    try {
      const response = await fetch("/openapi.json", { headers: keyHeader() });
      if (!response.ok) return;
      const doc = await response.json();
      const params = doc.paths[UPLOAD_PATH].post.parameters || [];
      const metrics = params.find((p) => p.name === "metrics");
      const match = metrics && /Valid: ([^.]+)\./.exec(metrics.description || "");
      if (!match) return;
      const names = match[1].split(",").map((s) => s.trim()).filter(Boolean);
      if (names.length) renderMetricChoices(names);
    } catch (_) {
      // The three contract metrics stay on offer.
    }
  }

  function chosenOptions() {
    const metrics = [...document.querySelectorAll('input[name="metrics"]:checked')].map((i) => i.value);
    return {
      metrics: metrics.join(","),
      edgeMode: $("edge-mode").value,
      regions: $("regions-input").value.trim(),
    };
  }

  // --- requests --------------------------------------------------------------------------

  function keyHeader() {
    const key = sessionStorage.getItem(KEY_STORAGE);
    return key ? { "X-API-Key": key } : {};
  }

  function uploadRequest(file) {
    const { metrics, edgeMode, regions } = chosenOptions();
    const query = new URLSearchParams();
    if (metrics) query.set("metrics", metrics);
    if (edgeMode) query.set("edge_mode", edgeMode);
    if (regions) query.set("regions", regions);
    return {
      label: file.name || "image",
      send: () => {
        const body = new FormData();
        body.append("image", file, file.name || "image");
        return fetch(`${UPLOAD_PATH}?${query}`, { method: "POST", body, headers: keyHeader() });
      },
    };
  }

  function urlRequest(url) {
    const { metrics, edgeMode, regions } = chosenOptions();
    const fields = { url, metrics: metrics || null, edge_mode: edgeMode || null };
    if (regions) fields.regions = regions; // sent only when asked: older servers know no such field
    const body = JSON.stringify(fields);
    return {
      label: url,
      send: () => fetch(URL_PATH, {
        method: "POST",
        body,
        headers: { "Content-Type": "application/json", ...keyHeader() },
      }),
    };
  }

  async function run(request) {
    lastRequest = request;
    showError(null);
    $("status").textContent = `Analysing ${request.label}…`;
    let response;
    try {
      response = await request.send();
    } catch (_) {
      $("status").textContent = "";
      showError("Could not reach the service. Check the connection and try again.");
      return;
    }
    const body = await response.json().catch(() => null);
    if (response.status === 401) {
      $("status").textContent = "";
      askForKey(sessionStorage.getItem(KEY_STORAGE) !== null);
      return;
    }
    $("status").textContent = "";
    if (!response.ok || body === null) {
      showError(describeError(response.status, body));
      return;
    }
    showResult(request.label, body);
  }

  // --- the API key (behind the Cloudflare Worker) ------------------------------------------

  function askForKey(refused) {
    sessionStorage.removeItem(KEY_STORAGE);
    $("key-message").textContent = refused
      ? "That API key was refused. Enter the right one to continue."
      : "This service needs an API key.";
    $("key-form").hidden = false;
    $("key-input").focus();
  }

  function onKeySubmit(event) {
    event.preventDefault();
    const key = $("key-input").value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_STORAGE, key);
    $("key-input").value = "";
    $("key-form").hidden = true;
    if (lastRequest) run(lastRequest);
  }

  // --- errors ----------------------------------------------------------------------------

  const MB = 1024 * 1024;

  // One clear sentence per error body of the contract (`detail.error`), with its particulars.
  function describeError(status, body) {
    const detail = body && body.detail;
    if (status === 422 && Array.isArray(detail)) {
      const first = detail[0] || {};
      return `The request was incomplete: ${first.msg || "invalid body"} (${(first.loc || []).join(".")}).`;
    }
    if (detail && typeof detail === "object" && typeof detail.error === "string") {
      const e = detail.error;
      const extra = [];
      if (detail.invalid_metrics) extra.push(`unknown: ${detail.invalid_metrics.join(", ")}; valid: ${detail.valid_metrics.join(", ")}`);
      if (detail.invalid_regions) {
        extra.push(`${detail.reason || "not understood"}: “${detail.invalid_regions.join("”, “")}”`);
        if (detail.valid_forms) extra.push(`valid forms: ${detail.valid_forms.join(", ")}`);
        if (detail.max_regions) extra.push(`at most ${detail.max_regions} regions`);
      }
      if (detail.valid_range) extra.push(`received “${detail.received}”; valid: ${detail.valid_range}`);
      if (detail.valid_modes) extra.push(`received “${detail.received}”; valid: ${detail.valid_modes.join(", ")}`);
      if (detail.allowed_types) extra.push(`received ${detail.received_type || "no type"}; allowed: ${detail.allowed_types.join(", ")}`);
      if (detail.max_size_bytes) extra.push(`${(detail.received_size_bytes / MB).toFixed(1)} MB received, the limit is ${(detail.max_size_bytes / MB).toFixed(0)} MB`);
      if (detail.max_pixels) extra.push(`${detail.received_pixels.toLocaleString("en")} pixels, the limit is ${detail.max_pixels.toLocaleString("en")}`);
      if (detail.details) extra.push(detail.details);
      if (detail.detail) extra.push(detail.detail);
      if (detail.status_code) extra.push(`the server answered ${detail.status_code}`);
      if (detail.timeout_seconds) extra.push(`limit ${detail.timeout_seconds} s`);
      return extra.length ? `${e}: ${extra.join("; ")}.` : `${e}.`;
    }
    if (body && body.error === "Internal server error") {
      return `The service failed unexpectedly (request id ${body.details}). Please try again.`;
    }
    if (body && typeof body.message === "string") return `${body.error || "Error"}: ${body.message}`;
    return `The service answered with status ${status}.`;
  }

  function showError(message) {
    const box = $("error");
    box.hidden = message === null;
    box.textContent = message || "";
    if (message !== null) $("result").hidden = true;
  }

  // --- the result ------------------------------------------------------------------------

  function setField(name, value) {
    for (const node of document.querySelectorAll(`[data-field="${name}"]`)) {
      node.textContent = value;
    }
  }

  const fixed2 = (n) => (typeof n === "number" ? n.toFixed(2) : "–");

  function numberRow(list, label, field, value) {
    const row = el("div");
    const dd = el("dd", "", value);
    if (field) dd.dataset.field = field;
    row.append(el("dt", "", label), dd);
    list.append(row);
  }

  function swatch(label, colour, note) {
    const item = el("li", "swatch");
    const chip = el("span", "chip");
    chip.style.backgroundColor = colour;
    chip.setAttribute("aria-hidden", "true");
    item.append(chip, el("span", "swatch-label", label), el("code", "", colour));
    if (note !== undefined) item.append(el("span", "swatch-note", note));
    return item;
  }

  function showResult(label, r) {
    $("result-source").textContent = `for ${label}`;

    const hasScore = typeof r.brightness_score === "number";
    $("gauge-block").hidden = !hasScore;
    if (hasScore) {
      $("gauge-value").setAttribute("stroke-dasharray", `${r.brightness_score} 100`);
      $("gauge-text").textContent = r.brightness_score;
      $("gauge").setAttribute("aria-valuenow", r.brightness_score);
      setField("brightness_score", r.brightness_score);
    }

    const numbers = $("numbers");
    numbers.replaceChildren();
    if ("average_luminance" in r) numberRow(numbers, "Average luminance", "average_luminance", fixed2(r.average_luminance));
    if ("median_luminance" in r) numberRow(numbers, "Median luminance", "median_luminance", fixed2(r.median_luminance));

    const histogram = $("histogram");
    histogram.replaceChildren();
    $("histogram-block").hidden = !Array.isArray(r.histogram);
    if (Array.isArray(r.histogram)) {
      const fullest = Math.max(...r.histogram.map((b) => b.percent), 1e-9);
      for (const bucket of r.histogram) {
        const item = el("li", "bucket");
        const bar = el("span", "bar");
        bar.style.width = `${(bucket.percent / fullest) * 100}%`;
        const track = el("span", "track");
        track.append(bar);
        const percent = el("span", "percent", `${bucket.percent.toFixed(1)}%`);
        percent.dataset.range = bucket.range;
        item.append(el("span", "range", bucket.range), track, percent);
        item.setAttribute("aria-label", `${bucket.range}: ${bucket.percent.toFixed(1)} percent`);
        histogram.append(item);
      }
    }

    const hasEdges = "edge_mode" in r;
    $("edge-block").hidden = !hasEdges;
    const edgeColours = $("edge-colors");
    edgeColours.replaceChildren();
    if (hasEdges) {
      setField("edge_mode", r.edge_mode);
      setField("edge_brightness_score", r.edge_brightness_score);
      setField("edge_average_luminance", fixed2(r.edge_average_luminance));
      for (const [side, colour] of Object.entries(r.edge_colors || {})) {
        if (COLOUR.test(colour)) edgeColours.append(swatch(side, colour));
      }
    }

    // Whatever else the API returns: numbers by name, colours as swatches.
    const extra = $("extra");
    const colours = $("colours");
    extra.replaceChildren();
    colours.replaceChildren();
    for (const [name, value] of Object.entries(r)) {
      if (PLACED.has(name)) continue;
      if (typeof value === "number" || value === null) {
        numberRow(extra, name.replaceAll("_", " "), name, value === null ? "–" : String(value));
      } else if (typeof value === "string" && COLOUR.test(value)) {
        colours.append(swatch(name.replaceAll("_", " "), value));
      } else if (Array.isArray(value)) {
        for (const entry of value) {
          if (entry && COLOUR.test(entry.color || "")) {
            const note = typeof entry.percent === "number" ? `${entry.percent}%` : undefined;
            colours.append(swatch(name.replaceAll("_", " "), entry.color, note));
          }
        }
      }
    }
    showPictures(r);

    $("extra-block").hidden = extra.children.length === 0;
    $("colours-block").hidden = colours.children.length === 0;

    setField("width", r.width);
    setField("height", r.height);
    // What was measured, when it is not simply the file's one sRGB picture.
    const notes = [];
    if (r.frames && typeof r.frames.count === "number") {
      notes.push(`first of ${r.frames.count} frames`);
    }
    if (r.color_profile && typeof r.color_profile.description === "string") {
      notes.push(`converted to sRGB from ${r.color_profile.description}`);
    }
    setField("source", notes.length ? `${notes.join(" · ")} ·` : "");
    setField("processing_time_ms", fixed2(r.processing_time_ms));
    setField("cached", r.cached ? "from the cache" : "freshly computed");
    $("result").hidden = false;
    $("status").textContent = `Analysed ${label}.`;
  }

  // --- text over the image and the placeholder ----------------------------------------------

  // The upright size: the core turns the picture by its EXIF orientation (5 to 8 swap the sides).
  function uprightSize(r) {
    const turned = typeof r.orientation === "number" && r.orientation >= 5;
    return turned ? [r.height, r.width] : [r.width, r.height];
  }

  const percent = (fraction) => `${(fraction * 100).toFixed(4)}%`;
  const ratio = (n) => (typeof n === "number" ? `${n.toFixed(2)} : 1` : "–");
  const lc = (n) => (typeof n === "number" ? n.toFixed(1).replace("-", "−") : "–");
  const mark = (passes) => (passes ? "✓ passes" : "✗ fails");

  // The picture the areas are drawn over: the uploaded file as the browser shows it (with its
  // EXIF orientation applied, as the core does), or a neutral box of its shape for a URL.
  function stage(r, areas, { outlined, small, description }) {
    const box = el("div", small ? "stage small" : "stage");
    if (previewUrl) {
      const img = el("img", "stage-image");
      img.src = previewUrl;
      img.alt = description;
      box.append(img);
    } else {
      const [w, h] = uprightSize(r);
      const stand = el("div", "stage-box");
      stand.setAttribute("role", "img");
      stand.setAttribute("aria-label", `${description} (a plain box of the linked image's shape, ${w}×${h})`);
      if (w > 0 && h > 0) {
        stand.style.aspectRatio = `${w} / ${h}`;
        box.style.width = `min(100%, calc(var(--stage-height) * ${w / h}))`;
      }
      box.append(stand);
    }
    const layer = el("div", "areas");
    for (const area of areas) layer.append(areaOverlay(area, outlined));
    box.append(layer);
    return box;
  }

  function areaOverlay(area, outlined) {
    const node = el("div", outlined ? "area outlined" : "area");
    node.dataset.region = area.name;
    node.style.left = percent(area.x);
    node.style.top = percent(area.y);
    node.style.width = percent(area.w);
    node.style.height = percent(area.h);
    const text = area.text;
    const colour = text && TEXT_COLOURS[text.recommended_color];
    if (text && text.scrim && TEXT_COLOURS[text.scrim.color]) {
      const scrim = el("div", "scrim");
      scrim.style.backgroundColor = TEXT_COLOURS[text.scrim.color];
      scrim.style.opacity = String(text.scrim.opacity_aa);
      scrim.setAttribute("aria-hidden", "true");
      node.append(scrim);
    }
    if (colour) {
      const caption = el("span", "caption", SAMPLE_CAPTION);
      caption.style.color = colour;
      node.append(caption);
    }
    if (outlined) node.append(el("span", "area-label", area.name));
    return node;
  }

  function figureRow(list, label, name, value, className) {
    const row = el("div", className);
    const dd = el("dd", "", value);
    dd.dataset.figure = name;
    row.append(el("dt", "", label), dd);
    list.append(row);
  }

  // One card of figures: the recommended caption colour and how well it reads where it reads worst.
  function textCard(name, title, text, others, specimen) {
    const card = el("li", "text-card");
    card.dataset.region = name;
    card.append(el("h4", "", title));
    if (specimen) card.append(specimen);
    const list = el("dl", "figures");
    if (text) {
      const chosen = text[text.recommended_color] || {};
      figureRow(list, "Caption colour", "recommended_color", text.recommended_color);
      figureRow(list, "Contrast, worst", "worst_contrast", ratio(chosen.worst_contrast));
      figureRow(list, "Contrast, average", "contrast", ratio(chosen.contrast));
      figureRow(list, "WCAG AA (4.5 : 1)", "aa", mark(text.aa), text.aa ? "pass" : "fail");
      figureRow(list, "AA large text (3 : 1)", "aa_large", mark(text.aa_large), text.aa_large ? "pass" : "fail");
      figureRow(list, "APCA Lc, worst", "worst_apca", lc(chosen.worst_apca));
      const scrim = text.scrim;
      const scrimNote = scrim
        ? `${scrim.color} at ${Math.round(scrim.opacity_aa * 100)}% for AA`
          + ` (${Math.round(scrim.opacity_aa_large * 100)}% for large text)`
        : "none needed";
      figureRow(list, "Scrim under the caption", "scrim", scrimNote, "wide");
    }
    for (const [field, value] of others) {
      figureRow(list, field.replaceAll("_", " "), field, typeof value === "number" ? String(value) : value);
    }
    card.append(list);
    return card;
  }

  function regionTitle(region) {
    const at = [region.x, region.y, region.w, region.h].map((n) => +n.toFixed(4)).join(", ");
    return `${region.name} (x, y, w, h: ${at})`;
  }

  function regionNumbers(region) {
    return Object.entries(region).filter(([field, value]) =>
      !REGION_FIELDS.has(field) && (typeof value === "number" || (typeof value === "string" && COLOUR.test(value))));
  }

  function showPictures(r) {
    const regions = Array.isArray(r.regions) ? r.regions : [];
    const text = r.text && typeof r.text === "object" ? r.text : null;
    const placeholder = r.placeholder && typeof r.placeholder === "object" ? r.placeholder : null;
    $("picture-block").hidden = !(regions.length || text || placeholder);
    const stageHolder = $("stage");
    const cards = $("text-figures");
    stageHolder.replaceChildren();
    cards.replaceChildren();
    if ($("picture-block").hidden) return;

    const whole = { name: "whole image", x: 0, y: 0, w: 1, h: 1, text };
    const names = regions.map((region) => region.name).join(", ");
    if (regions.length) {
      $("picture-heading").textContent = text ? "Text over the image" : "Regions";
      stageHolder.append(stage(r, regions, {
        outlined: true, small: false, description: `The analysed image with its regions outlined: ${names}`,
      }));
      $("stage-caption").textContent = text
        ? `“${SAMPLE_CAPTION}” in the recommended colour over each region (${names}), on a scrim where one is needed.`
        : `Regions: ${names}.`;
    } else {
      $("picture-heading").textContent = text ? "Text over the image" : "The image";
      stageHolder.append(stage(r, text ? [whole] : [], {
        outlined: false, small: false, description: "The analysed image",
      }));
      $("stage-caption").textContent = text
        ? `“${SAMPLE_CAPTION}” in the recommended colour over the whole image.`
        : "The analysed image.";
    }

    if (text) {
      // With regions on the big picture, the whole image gets its own small one.
      const specimen = regions.length
        ? stage(r, [whole], { outlined: false, small: true, description: "The whole image with the caption over it" })
        : null;
      cards.append(textCard("whole image", "Whole image", text, [], specimen));
    }
    for (const region of regions) {
      const regionText = region.text && typeof region.text === "object" ? region.text : null;
      cards.append(textCard(region.name, regionTitle(region), regionText, regionNumbers(region), null));
    }
    $("text-figures-block").hidden = cards.children.length === 0;

    const figure = $("placeholder-figure");
    const image = $("placeholder-image");
    const usable = placeholder && THUMBHASH_PNG.test(placeholder.thumbhash_data_url || "");
    figure.hidden = !usable;
    if (!usable) {
      image.removeAttribute("src");
      return;
    }
    const [w, h] = uprightSize(r);
    if (w > 0 && h > 0) image.style.aspectRatio = `${w} / ${h}`;
    image.src = placeholder.thumbhash_data_url;
    $("blurhash").textContent = placeholder.blurhash || "–";
    const components = placeholder.blurhash_components;
    $("blurhash-components").textContent = Array.isArray(components) ? `(${components.join("×")} components)` : "";
    const average = $("placeholder-average");
    average.replaceChildren();
    if (COLOUR.test(placeholder.average_color || "")) {
      const chip = el("span", "chip");
      chip.style.backgroundColor = placeholder.average_color;
      chip.setAttribute("aria-hidden", "true");
      average.append(chip, el("code", "", placeholder.average_color));
    }
  }

  function showPreview(file) {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = file ? URL.createObjectURL(file) : null;
    const img = $("preview");
    img.hidden = !previewUrl;
    if (previewUrl) img.src = previewUrl;
    else img.removeAttribute("src");
  }

  // --- wiring ----------------------------------------------------------------------------

  function analyseFile(file) {
    if (!file) return;
    showPreview(file);
    run(uploadRequest(file));
  }

  document.addEventListener("DOMContentLoaded", () => {
    renderMetricChoices(KNOWN_METRICS);
    discoverMetrics();
    const input = $("file-input");
    input.addEventListener("change", () => {
      analyseFile(input.files[0]);
      input.value = ""; // so that choosing the same file again analyses it again
    });

    const zone = $("drop-zone");
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("dragging");
      analyseFile(event.dataTransfer.files[0]);
    });

    $("url-form").addEventListener("submit", (event) => {
      event.preventDefault();
      showPreview(null);
      run(urlRequest($("url-input").value.trim()));
    });
    $("key-form").addEventListener("submit", onKeySubmit);
  });
})();
