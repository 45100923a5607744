// The chainrule playground page: controls, the WebSocket to the server, the URL state.
// The server (chainrule itself) trains; this page only sends checked choices and draws.
"use strict";

const $ = (id) => document.getElementById(id);
const LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const LAMBDAS = [0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1];
const DROPOUTS = [0, 0.1, 0.2, 0.3, 0.5];
const DATASET_LABELS = {
  xor: "XOR", circles: "Circles", spirals: "Spirals", gaussians: "Gaussians", moons: "Moons",
  spirals3: "3 spirals", regression: "Regression",
};
const ERROR_SECONDS = 12;
const BACKGROUND_STRENGTH = 0.55; // the boundary's colours are muted so the points stand out

const app = {
  socket: null,
  session: null,
  catalog: null,
  setup: null,
  setupKey: "",
  points: null,
  state: null,
  nodes: null,
  errorTimer: null,
  noticeTimer: null,
  full: null,
  explainPoint: null,  // the clicked point the explain panel shows, once the map was clicked
  explainLabel: null,  // null: the nearest training point's label; else the class picked
  explainKey: "",  // what the shown (or requested) explanation was computed for
  explanation: null,
  explainAt: 0,  // when the last explanation was asked for (Date.now())
};

// ---------------------------------------------------------------------- the connection
function connect() {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const socket = new WebSocket(`${scheme}${location.host}/ws`);
  app.socket = socket;
  socket.addEventListener("open", () => setConnection("connected", true));
  socket.addEventListener("message", (event) => receive(JSON.parse(event.data)));
  socket.addEventListener("close", () => {
    if (app.full) {  // the server said why it closed: keep its words, not a generic line
      setConnection("server full", false);
      showError(app.full, true);
      return;
    }
    setConnection("disconnected", false);
    showError("The connection to the playground server was closed. Reload the page to start " +
              "a new session.");
  });
}

function setConnection(text, ok) {
  const element = $("connection");
  element.textContent = text;
  element.classList.toggle("ok", ok);
  document.body.dataset.connection = text;
}

function send(message) {
  if (app.socket && app.socket.readyState === WebSocket.OPEN) {
    app.socket.send(JSON.stringify(message));
  }
}

function receive(message) {
  if (message.type === "hello") {
    app.session = message.session;
    app.catalog = message.catalog;
    document.body.dataset.session = message.session;
    buildStaticControls();
    const wanted = setupFromHash();
    if (wanted) send({ type: "link", setup: wanted });
  } else if (message.type === "data") {
    app.points = message;
  } else if (message.type === "state") {
    applyState(message);
  } else if (message.type === "explanation") {
    showExplanation(message);
  } else if (message.type === "error") {
    showError(message.message);
  } else if (message.type === "full") {
    app.full = message.message;
  } else if (message.type === "notice") {
    showNotice(message.message);
  }
}

function showNotice(text) {
  $("notice-text").textContent = text;
  $("notice").hidden = false;
  clearTimeout(app.noticeTimer);
  app.noticeTimer = setTimeout(() => { $("notice").hidden = true; }, ERROR_SECONDS * 1000);
}

function showError(text, lasting = false) {
  $("error-text").textContent = text;
  $("error").hidden = false;
  clearTimeout(app.errorTimer);
  if (!lasting) app.errorTimer = setTimeout(() => { $("error").hidden = true; }, ERROR_SECONDS * 1000);
}

function change(patch) {
  send({ type: "setup", setup: { ...app.setup, ...patch } });
}

// ---------------------------------------------------------------------- the URL
const URL_KEYS = {
  dataset: ["dataset", String], noise: ["noise", Number], ratio: ["train_ratio", Number],
  samples: ["samples", Number], lr: ["learning_rate", Number], optimizer: ["optimizer", String],
  batch: ["batch_size", Number], reg: ["regularization", String], lambda: ["lam", Number],
  seed: ["seed", Number],
};

// A number that does not parse is sent as the text it is, so that the server names it.
function linkValue(text, convert) {
  if (convert !== Number) return text;
  const value = Number(text);
  return text.trim() !== "" && Number.isFinite(value) ? value : text;
}

function setupFromHash() {
  const text = location.hash.replace(/^#/, "");
  if (!text) return null;
  const params = new URLSearchParams(text);
  const setup = {};
  for (const [key, [field, convert]] of Object.entries(URL_KEYS)) {
    if (params.has(key)) setup[field] = linkValue(params.get(key), convert);
  }
  if (params.has("features")) setup.features = params.get("features").split(",").filter(Boolean);
  if (params.has("layers")) {
    setup.layers = params.get("layers").split(",").filter(Boolean).map((part) => {
      const [units, activation, dropout] = part.split(":");
      const layer = { units: linkValue(units, Number), activation: activation || "" };
      if (dropout !== undefined) layer.dropout = linkValue(dropout, Number);
      return layer;
    });
  }
  return setup;
}

function hashFromSetup(setup) {
  const params = new URLSearchParams();
  for (const [key, [field]] of Object.entries(URL_KEYS)) params.set(key, `${setup[field]}`);
  params.set("features", setup.features.join(","));
  params.set("layers", setup.layers.map((l) => `${l.units}:${l.activation}` +
    (l.dropout ? `:${l.dropout}` : "")).join(","));
  return params.toString().replace(/%2C/g, ",").replace(/%3A/g, ":");
}

// ---------------------------------------------------------------------- controls
function options(select, values, label) {
  select.replaceChildren(...values.map((value) => {
    const option = document.createElement("option");
    option.value = `${value}`;
    option.textContent = label ? label(value) : `${value}`;
    return option;
  }));
}

function buildStaticControls() {
  const catalog = app.catalog;
  options($("optimizer"), catalog.optimizers);
  options($("regularization"), catalog.regularizations, (v) => (v === "none" ? "None" : v.toUpperCase()));
  const datasets = $("datasets");
  datasets.replaceChildren(...catalog.datasets.map((name) => {
    const button = document.createElement("button");
    button.className = "dataset";
    button.dataset.dataset = name;
    button.textContent = DATASET_LABELS[name] || name;
    button.addEventListener("click", () => change({ dataset: name }));
    return button;
  }));
  $("own-csv-hint").textContent += ` At most ${catalog.limits.max_samples.toLocaleString("en")} ` +
    `rows, ${catalog.max_classes} classes and ${Math.round(catalog.max_upload_bytes / 1024)} KiB.`;
  $("samples").max = `${catalog.limits.max_samples}`;  // the server's caps (command line)
  $("samples").min = `${catalog.limits.min_samples}`;
  $("export-model").href = `/export/${app.session}/model.npz`;
  $("download-snippet").href = `/export/${app.session}/snippet.py`;
}

function numberChoices(values, current) {
  return values.includes(current) ? values : values.concat([current]).sort((a, b) => a - b);
}

function renderControls(setup) {
  options($("learning-rate"), numberChoices(LEARNING_RATES, setup.learning_rate));
  $("learning-rate").value = `${setup.learning_rate}`;
  options($("lam"), numberChoices(LAMBDAS, setup.lam));
  $("lam").value = `${setup.lam}`;
  $("lam").disabled = setup.regularization === "none";
  $("optimizer").value = setup.optimizer;
  $("regularization").value = setup.regularization;
  $("batch-size").value = `${setup.batch_size}`;
  $("train-ratio").value = `${Math.round(setup.train_ratio * 100)}`;
  $("train-ratio-value").textContent = `${Math.round(setup.train_ratio * 100)}%`;
  $("noise").value = `${Math.round(setup.noise * 100)}`;
  $("noise-value").textContent = `${setup.noise}`;
  $("samples").value = `${setup.samples}`;
  $("samples-value").textContent = `${setup.samples}`;
  $("seed").value = `${setup.seed}`;
  const classes = app.state ? app.state.classes : 2;
  $("problem").textContent = setup.dataset === "regression" ? "regression"
    : `classification${classes > 2 ? ` (${classes} classes)` : ""}`;
  for (const button of document.querySelectorAll("button.dataset")) {
    button.classList.toggle("selected", button.dataset.dataset === setup.dataset);
  }
  const own = setup.dataset === app.catalog.own_dataset;
  $("own-csv-button").classList.toggle("selected", own);
  $("noise").disabled = own;  // your CSV's points are used as they are, all of them
  $("samples").disabled = own;
  document.querySelector(".legend .scale").hidden = classes > 2;  // regions: no −1…1 scale
  const limits = app.catalog.limits;
  $("layer-count").textContent = `${setup.layers.length} hidden layer${setup.layers.length === 1 ? "" : "s"}`;
  $("add-layer").disabled = setup.layers.length >= limits.max_layers;
  $("remove-layer").disabled = setup.layers.length === 0;
}

function wireControls() {
  $("start").addEventListener("click", () => send({ type: app.state && app.state.running ? "pause" : "start" }));
  $("step").addEventListener("click", () => send({ type: "step", epochs: 1 }));
  $("reset").addEventListener("click", () => send({ type: "reset" }));
  $("learning-rate").addEventListener("change", (e) => change({ learning_rate: Number(e.target.value) }));
  $("lam").addEventListener("change", (e) => change({ lam: Number(e.target.value) }));
  $("optimizer").addEventListener("change", (e) => change({ optimizer: e.target.value }));
  $("regularization").addEventListener("change", (e) => {
    const regularization = e.target.value;
    const lam = regularization !== "none" && app.setup.lam === 0 ? 0.001 : app.setup.lam;
    change({ regularization, lam });
  });
  $("batch-size").addEventListener("change", (e) => change({ batch_size: Number(e.target.value) }));
  $("seed").addEventListener("change", (e) => change({ seed: Number(e.target.value) }));
  $("new-seed").addEventListener("click", () => change({ seed: Math.floor(Math.random() * 1e6) }));
  $("train-ratio").addEventListener("input", (e) => { $("train-ratio-value").textContent = `${e.target.value}%`; });
  $("train-ratio").addEventListener("change", (e) => change({ train_ratio: Number(e.target.value) / 100 }));
  $("noise").addEventListener("input", (e) => { $("noise-value").textContent = `${Number(e.target.value) / 100}`; });
  $("noise").addEventListener("change", (e) => change({ noise: Number(e.target.value) / 100 }));
  $("samples").addEventListener("input", (e) => { $("samples-value").textContent = e.target.value; });
  $("samples").addEventListener("change", (e) => change({ samples: Number(e.target.value) }));
  $("add-layer").addEventListener("click", () => {
    const layers = app.setup.layers;
    const last = layers.length ? layers[layers.length - 1].activation : "tanh";
    change({ layers: layers.concat([{ units: 2, activation: last, dropout: 0 }]) });
  });
  $("remove-layer").addEventListener("click", () => change({ layers: app.setup.layers.slice(0, -1) }));
  $("show-test").addEventListener("change", () => drawBoundary());
  $("own-csv").addEventListener("change", uploadCsv);
  $("boundary").addEventListener("click", (event) => {
    const canvas = $("boundary");
    const box = canvas.getBoundingClientRect();
    const domain = app.catalog.limits.domain;
    const x1 = ((event.clientX - box.left) / box.width) * 2 * domain - domain;
    const x2 = domain - ((event.clientY - box.top) / box.height) * 2 * domain;
    const clip = (v) => Math.max(-domain, Math.min(domain, Math.round(v * 1000) / 1000));
    const point = [clip(x1), clip(x2)];
    send({ type: "probe", point });
    app.explainPoint = point;
    requestExplanation(true);
  });
  $("explain-label").addEventListener("change", (e) => {
    app.explainLabel = e.target.value === "" ? null : Number(e.target.value);
    requestExplanation(true);
  });
  $("links").addEventListener("mouseover", (event) => {
    const path = event.target.closest("path");
    if (!path) return;
    showFormula(linkFormula(Number(path.dataset.layer), Number(path.dataset.to),
      Number(path.dataset.from)), event);
  });
  $("links").addEventListener("mousemove", (event) => { if (!$("formula").hidden) placeFormula(event); });
  $("links").addEventListener("mouseout", hideFormula);
  $("error-close").addEventListener("click", () => { $("error").hidden = true; });
  $("notice-close").addEventListener("click", () => { $("notice").hidden = true; });
  $("show-snippet").addEventListener("click", showSnippet);
  $("close-snippet").addEventListener("click", () => { $("snippet-panel").hidden = true; });
  window.addEventListener("resize", () => drawLinks());
}

// Your own CSV: the server reads it with chainrule's CSV reader and says what is wrong with it.
async function uploadCsv(event) {
  const file = event.target.files[0];
  event.target.value = "";  // choosing the same file again is a new upload
  if (!file) return;
  if (file.size > app.catalog.max_upload_bytes) {
    showError(`Your CSV has ${file.size.toLocaleString("en")} bytes; the limit is ` +
              `${app.catalog.max_upload_bytes.toLocaleString("en")}.`);
    return;
  }
  let answer;
  try {
    const response = await fetch(`/upload/${app.session}`, { method: "POST", body: file });
    answer = await response.json();
  } catch (error) {
    showError(`The CSV could not be sent: ${error}`);
    return;
  }
  if (answer.error) {
    showError(`Your CSV was not used: ${answer.error}`);
    return;
  }
  if (answer.classes === null) {  // x1, x2 only: points to predict, not to train on
    showNotice(`Your CSV's ${answer.rows} points (no class column) are the squares on the ` +
               "output map, coloured by the class the network predicts for each.");
    const view = app.state && app.state.activation;
    send({ type: "select", layer: view ? view.layer : 0 });  // a new state, nothing trained
    return;
  }
  change({ dataset: app.catalog.own_dataset });
}

async function showSnippet() {
  const response = await fetch(`/export/${app.session}/snippet.py`);
  $("snippet").textContent = await response.text();
  $("snippet-panel").hidden = false;
}

// ---------------------------------------------------------------------- the network drawing
function node(className, title) {
  const element = document.createElement("div");
  element.className = `node ${className}`;
  element.title = title;
  const canvas = document.createElement("canvas");
  canvas.width = 32;
  canvas.height = 32;
  element.appendChild(canvas);
  return { element, canvas };
}

function setLayer(index, patch) {
  const layers = app.setup.layers.map((layer, i) => (i === index ? { ...layer, ...patch } : layer));
  change({ layers });
}

function layerHeader(index, spec) {
  const limits = app.catalog.limits;
  const header = document.createElement("div");
  header.className = "layer-head";
  const buttons = document.createElement("div");
  const plus = document.createElement("button");
  plus.className = "round small";
  plus.textContent = "+";
  plus.title = "Add a unit";
  plus.disabled = spec.units >= limits.max_units;
  plus.addEventListener("click", () => setLayer(index, { units: spec.units + 1 }));
  const minus = document.createElement("button");
  minus.className = "round small";
  minus.textContent = "−";
  minus.title = "Remove a unit";
  minus.disabled = spec.units <= 1;
  minus.addEventListener("click", () => setLayer(index, { units: spec.units - 1 }));
  buttons.append(plus, minus);
  const select = document.createElement("select");
  select.className = "activation";
  select.dataset.layer = `${index}`;
  select.title = "The activation g of this layer";
  options(select, app.catalog.activations.map((a) => a.name));
  select.value = spec.activation;
  select.addEventListener("change", (e) => setLayer(index, { activation: e.target.value }));
  const dropout = document.createElement("select");
  dropout.className = "dropout";
  dropout.dataset.layer = `${index}`;
  dropout.title = "Dropout: the share of this layer's outputs zeroed in each training step " +
    "(none when evaluating)";
  options(dropout, numberChoices(DROPOUTS, spec.dropout),
    (v) => `drop ${v}`);
  dropout.value = `${spec.dropout}`;
  dropout.addEventListener("change", (e) => setLayer(index, { dropout: Number(e.target.value) }));
  const label = document.createElement("button");
  label.className = "layer-label";
  label.textContent = `${spec.units} neuron${spec.units === 1 ? "" : "s"}`;
  label.title = "Show g, g′ and the z of this layer";
  label.addEventListener("click", () => send({ type: "select", layer: index }));
  header.append(buttons, select, dropout, label);
  return header;
}

function buildNetwork(setup, classes) {
  const columns = $("network-columns");
  const inputs = document.createElement("div");
  inputs.className = "net-column inputs";
  const inputNodes = [];
  for (const feature of app.catalog.features) {
    const active = setup.features.includes(feature.name);
    const item = node(active ? "input active" : "input", `${feature.label}: click to ${active ? "remove" : "use"}`);
    item.element.dataset.feature = feature.name;
    if (active) {
      const column = inputNodes.length;
      hoverFormula(item.element, () => inputFormula(feature.label, column));
    }
    const label = document.createElement("span");
    label.className = "feature-label";
    label.textContent = feature.label;
    item.element.prepend(label);
    item.element.addEventListener("click", () => {
      const chosen = active ? setup.features.filter((f) => f !== feature.name)
        : setup.features.concat([feature.name]);
      if (chosen.length === 0) {
        showError("Keep at least one input feature.");
        return;
      }
      change({ features: chosen });
    });
    inputs.appendChild(item.element);
    if (active) inputNodes.push(item);
  }
  const hidden = setup.layers.map((spec, index) => {
    const column = document.createElement("div");
    column.className = "net-column hidden-layer";
    column.dataset.layer = `${index}`;
    column.appendChild(layerHeader(index, spec));
    const units = [];
    for (let u = 0; u < spec.units; u += 1) {
      const item = node("unit", "");
      item.element.dataset.unit = `${u}`;
      hoverFormula(item.element, () => unitFormula(index, u));
      column.appendChild(item.element);
      units.push(item);
    }
    return { column, units };
  });
  const outputColumn = document.createElement("div");
  outputColumn.className = "net-column output";
  // one output unit, or one per class (its softmax probability) for three or more classes
  const outputs = [];
  for (let j = 0; j < (classes > 2 ? classes : 1); j += 1) {
    const item = node("unit output-node", "");
    item.element.dataset.output = `${j}`;
    hoverFormula(item.element, () => unitFormula(setup.layers.length, j));
    outputColumn.appendChild(item.element);
    outputs.push(item);
  }
  columns.replaceChildren(inputs, ...hidden.map((h) => h.column), outputColumn);
  app.nodes = { inputs: inputNodes, layers: hidden.map((h) => h.units), outputs, hidden };
}

// ---------------------------------------------------------------------- hover formulas
// Every number comes from the server's forward pass at the probe point (state.probe).
const SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉";
const MAX_TERMS = 8;

function fmt(value) {
  return Number(value).toFixed(3).replace(/^-/, "−");
}

function sub(n) {
  return `${n}`.split("").map((d) => SUBSCRIPTS[Number(d)]).join("");
}

function hoverFormula(element, build) {
  element.addEventListener("mouseenter", (event) => showFormula(build(), event));
  element.addEventListener("mousemove", (event) => placeFormula(event));
  element.addEventListener("mouseleave", hideFormula);
}

function showFormula(text, event) {
  if (!text) return;
  const box = $("formula");
  box.textContent = text;
  box.hidden = false;
  placeFormula(event);
}

function placeFormula(event) {
  const box = $("formula");
  const left = Math.min(event.clientX + 14, window.innerWidth - box.offsetWidth - 4);
  box.style.left = `${Math.max(4, left)}px`;
  box.style.top = `${event.clientY + 16}px`;
}

function hideFormula() {
  $("formula").hidden = true;
}

function pointText(probe) {
  return `at p = (${fmt(probe.point[0])}, ${fmt(probe.point[1])}) — click the output map to move p`;
}

function layerName(l) {
  return l === app.setup.layers.length ? "Output layer" : `Layer ${l + 1}`;
}

function inputFormula(label, column) {
  const probe = app.state && app.state.probe;
  if (!probe) return "";
  return `${label} = ${fmt(probe.features[column])}\n${pointText(probe)}`;
}

// z = Σᵢ wᵢ aᵢ + b with the numbers, for row r of layer l's W.
function sumLine(layer, r, name) {
  const terms = layer.a_in.map((a, i) => `(${fmt(layer.w[r][i])})(${fmt(a)})`);
  const shown = terms.length > MAX_TERMS ? terms.slice(0, MAX_TERMS).concat(["…"]) : terms;
  return `${name} = Σᵢ wᵢ aᵢ + b = ${shown.join(" + ")} + (${fmt(layer.b[r])}) = ${fmt(layer.z[r])}`;
}

function unitFormula(l, u) {
  const probe = app.state && app.state.probe;
  if (!probe || !probe.layers[l]) return "";
  const layer = probe.layers[l];
  const lines = [];
  const output = l === app.setup.layers.length;
  if (output) {
    lines.push(app.state.classes > 2 ? `Output unit ${u} (class ${u})` : "Output unit");
    lines.push(sumLine(layer, u, "z"));
    if (app.state.classes > 2) {
      const exps = layer.z.map((z) => Math.exp(z - Math.max(...layer.z)));
      const total = exps.reduce((a, b) => a + b, 0);
      lines.push(`P(class ${u}) = softmax(z)${sub(u)} = exp(z${sub(u)}) / Σₖ exp(zₖ) = ${fmt(exps[u] / total)}`);
    } else if (app.state.classes === 2) {
      lines.push(`P(class 1) = σ(z) = 1 / (1 + exp(−z)) = ${fmt(1 / (1 + Math.exp(-layer.z[u])))}`);
    } else {
      lines.push(`ŷ = z = ${fmt(layer.z[u])}`);
    }
  } else {
    const spec = app.setup.layers[l];
    lines.push(`${layerName(l)}, unit ${u + 1} (${spec.activation}${spec.dropout ? `, dropout ${spec.dropout} in training only` : ""})`);
    const pieces = layer.pieces;
    for (let k = 0; k < pieces; k += 1) {
      lines.push(sumLine(layer, u * pieces + k, pieces > 1 ? `z${sub(k + 1)}` : "z"));
    }
    const argument = pieces > 1 ? Array.from({ length: pieces }, (_, k) => `z${sub(k + 1)}`).join(", ") : "z";
    lines.push(`a = ${spec.activation}(${argument}) = ${fmt(layer.a[u])}`);
  }
  lines.push(pointText(probe));
  return lines.join("\n");
}

function linkFormula(l, j, i) {
  const probe = app.state && app.state.probe;
  if (!probe || !probe.layers[l]) return "";
  const layer = probe.layers[l];
  const rows = l < app.setup.layers.length ? layer.pieces : 1;
  const source = l === 0 ? app.setup.features[i] : `${layerName(l - 1)}, unit ${i + 1}`;
  const target = l === app.setup.layers.length ? `output unit ${j}` : `${layerName(l)}, unit ${j + 1}`;
  const lines = [`Weight from ${source} to ${target}`];
  for (let k = 0; k < rows; k += 1) {
    const r = j * rows + k;
    const w = layer.w[r][i];
    const z = rows > 1 ? `z${sub(k + 1)}` : "z";
    lines.push(`w = ${fmt(w)}, a = ${fmt(layer.a_in[i])}: w·a = ${fmt(w * layer.a_in[i])}, one term of ${z} = Σᵢ wᵢ aᵢ + b = ${fmt(layer.z[r])}`);
  }
  lines.push(pointText(probe));
  return lines.join("\n");
}

function centre(element, origin) {
  const box = element.getBoundingClientRect();
  return { left: box.left - origin.left, right: box.right - origin.left, y: box.top - origin.top + box.height / 2 };
}

function drawLinks() {
  if (!app.nodes || !app.state) return;
  const network = $("network");
  const origin = network.getBoundingClientRect();
  const svg = $("links");
  svg.setAttribute("width", `${network.scrollWidth}`);
  svg.setAttribute("height", `${network.scrollHeight}`);
  const columns = [app.nodes.inputs, ...app.nodes.layers, app.nodes.outputs];
  const segments = [];
  app.state.weights.forEach((matrix, l) => {
    const sources = columns[l];
    const targets = columns[l + 1];
    if (!sources || !targets) return;
    matrix.forEach((row, j) => row.forEach((weight, i) => {
      if (!targets[j] || !sources[i]) return;
      const a = centre(sources[i].element, origin);
      const b = centre(targets[j].element, origin);
      segments.push({ x1: a.right, y1: a.y, x2: b.left, y2: b.y, weight, layer: l, to: j, from: i });
    }));
  });
  Draw.links(svg, segments);
}

function drawNeurons(state) {
  const size = state.neuron_size;
  app.nodes.inputs.forEach((item, j) => {
    const values = state.neurons.inputs[j];
    if (values) Draw.heatmap(item.canvas, values, size, Draw.symmetric(values, 1));
  });
  app.nodes.layers.forEach((units, l) => units.forEach((item, u) => {
    const values = (state.neurons.layers[l] || [])[u];
    if (values) Draw.heatmap(item.canvas, values, size, Draw.symmetric(values, 1));
  }));
  if (state.classes > 2) {  // each output unit: P(class j), grey (0) to the class colour (1)
    app.nodes.outputs.forEach((item, j) => Draw.classMap(item.canvas, state.boundary[j],
      state.boundary_size, j));
  } else {
    Draw.heatmap(app.nodes.outputs[0].canvas, state.boundary, state.boundary_size, outputScale());
  }
}

function markHealth(state) {
  const health = state.health;
  app.nodes.layers.forEach((units, l) => {
    const row = health.layers[l];
    const spec = app.setup.layers[l];
    units.forEach((item, u) => {
      const measured = row && spec && spec.activation !== "maxout";
      const dead = measured && row.dead_units.includes(u);
      const saturated = measured && row.saturated_units.includes(u);
      item.element.classList.toggle("dead", Boolean(dead));
      item.element.classList.toggle("saturated", Boolean(saturated));
      item.element.dataset.health = dead ? "dead" : saturated ? "saturated" : "ok";
    });
  });
  const lines = [];
  health.layers.forEach((row, l) => {
    const parts = [];
    if (row.dead !== null) parts.push(`${Math.round(100 * row.dead)}% dead`);
    if (row.saturated !== null) parts.push(`${Math.round(100 * row.saturated)}% saturated`);
    if (parts.length) lines.push(["info", `Layer ${l + 1} (${row.activation}): ${parts.join(", ")}`]);
  });
  for (const text of health.warnings) lines.push(["warning", text]);
  for (const text of health.notes) lines.push(["note", text]);
  if (health.ok && !state.diverged) lines.push(["ok", `Health monitor: ${health.summary}`]);
  const box = $("health");
  box.replaceChildren(...lines.map(([kind, text]) => {
    const p = document.createElement("p");
    p.className = kind;
    p.textContent = text;
    return p;
  }));
  box.dataset.ok = `${health.ok && !state.diverged}`;
}

// ---------------------------------------------------------------------- the output
function targetScale() {
  if (!app.points || !app.points.regression) return (v) => 2 * v - 1;
  let largest = 1e-9;
  for (const row of app.points.train) largest = Math.max(largest, Math.abs(row[2]));
  return (v) => v / largest;
}

function outputScale() {
  return targetScale();
}

function drawBoundary() {
  const state = app.state;
  if (!state) return;
  const canvas = $("boundary");
  if (state.classes > 2) {
    Draw.regions(canvas, state.boundary, state.boundary_size, BACKGROUND_STRENGTH);
  } else {
    Draw.heatmap(canvas, state.boundary, state.boundary_size, outputScale(), BACKGROUND_STRENGTH);
  }
  if (app.points) {
    const domain = app.catalog.limits.domain;
    const scale = targetScale();
    const fill = state.classes > 2 ? (c) => Draw.classCss(c) : (v) => Draw.css(scale(v));
    Draw.points(canvas, app.points.train, domain, fill, false);
    if ($("show-test").checked) Draw.points(canvas, app.points.test, domain, fill, true);
    if (state.own_points) Draw.squares(canvas, state.own_points, domain, fill);
    Draw.axes(canvas, domain);
    if (state.probe) Draw.cross(canvas, state.probe.point, domain);
  }
}

function capitalised(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function formatLoss(value) {
  return value >= 100 ? value.toFixed(0) : value.toFixed(3);
}

function showStats(state) {
  $("epoch").textContent = String(state.epoch).padStart(6, "0").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  $("epoch").dataset.value = `${state.epoch}`;
  const testLoss = state.test_metrics.loss;
  const trainLoss = state.train_metrics.loss;
  $("test-loss").textContent = formatLoss(testLoss);
  $("test-loss").dataset.value = `${testLoss}`;
  $("train-loss").textContent = formatLoss(trainLoss);
  $("train-loss").dataset.value = `${trainLoss}`;
  const accuracy = state.test_metrics.accuracy;
  $("test-accuracy").textContent = accuracy === undefined ? "—" : `${(100 * accuracy).toFixed(1)}%`;
  $("test-accuracy").dataset.value = accuracy === undefined ? "" : `${accuracy}`;
  Draw.lossCurves($("loss-curve"), state.train_loss, state.test_loss);
  const diverged = Boolean(state.diverged);
  $("run-state").hidden = !diverged;
  $("run-state").textContent = diverged ? capitalised(state.diverged) : "";
  document.querySelector(".losses").classList.toggle("diverged", diverged);
  document.body.dataset.diverged = `${diverged}`;
  const start = $("start");
  start.textContent = state.running ? "❚❚" : "▶";
  start.classList.toggle("running", state.running);
  document.body.dataset.running = `${state.running}`;
}

// The basic recipe's verdict (server: views.bias_variance, baseline error 0): the figures,
// then the verdict with what to try, in the page's control names.
function showBiasVariance(state) {
  const box = $("bias-variance");
  const result = state.bias_variance;
  box.dataset.verdict = result ? result.verdict : "";
  box.classList.toggle("fine", Boolean(result) && result.verdict === "fine");
  if (!result) {
    box.replaceChildren();
    return;
  }
  const head = document.createElement("p");
  head.className = "figures";
  head.textContent = `Bias/variance at epoch ${state.epoch}: ${result.figures}`;
  const verdict = document.createElement("p");
  verdict.className = "verdict";
  verdict.textContent = capitalised(result.advice);
  box.replaceChildren(head, verdict);
}

// ---------------------------------------------------------------------- the explain panel
// One example at the clicked point through forward and backward (server: views.explanation,
// the numbers of chainrule.explain), asked again whenever the network has changed.
const EXPLAIN_REFRESH_MS = 1000;  // while training, at most one new explanation a second

function requestExplanation(force = false) {
  if (!app.explainPoint || !app.state) return;
  const key = `${app.state.epoch}|${app.setupKey}|${app.explainPoint}|${app.explainLabel}`;
  if (!force && key === app.explainKey) return;
  if (!force && app.state.running && Date.now() - app.explainAt < EXPLAIN_REFRESH_MS) return;
  app.explainKey = key;
  app.explainAt = Date.now();
  send({ type: "explain", point: app.explainPoint, label: app.explainLabel });
}

function num(value) {
  if (value === null || value === undefined) return "—";
  const v = Number(value);
  if (v === 0) return "0";
  const text = Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toPrecision(3) : v.toExponential(1);
  return text.replace(/^-/, "−");
}

function maxAbs(values) {
  return values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

function element(tag, className, text) {
  const item = document.createElement(tag);
  if (className) item.className = className;
  if (text !== undefined) item.textContent = text;
  return item;
}

function labelOptions(result) {
  const select = $("explain-label");
  const values = result.regression ? [""] : ["", ...Array.from({ length: result.classes }, (_, c) => `${c}`)];
  const current = Array.from(select.options).map((o) => o.value);
  if (current.join(",") !== values.join(",")) {
    select.replaceChildren(...values.map((v) => {
      const option = element("option", "", v === "" ? "the nearest training point's label" : `class ${v}`);
      option.value = v;
      return option;
    }));
  }
  select.value = result.label_from === "chosen" ? `${result.label}` : "";
  select.disabled = result.regression;
}

function unitName(result, l, u) {
  if (l < result.layers.length - 1) return `unit ${u + 1}`;
  return result.layers[l].z.length > 1 ? `class ${u}` : "output";
}

function layerTable(result, layer, l) {
  const box = element("div", "explain-layer");
  box.dataset.layer = `${l}`;
  box.append(element("p", "explain-rule", `${layer.name} (${layer.activation}): δ = ${layer.delta_rule}`));
  const table = element("table");
  const head = element("tr");
  for (const title of ["", "z", "a", "f′(z)", "δ = ∂L/∂b", "max |∂L/∂w|", "max |Δw|", "Δb"]) {
    head.append(element("th", "", title));
  }
  table.append(head);
  const aIn = l === 0 ? result.features : result.layers[l - 1].a;
  layer.z.forEach((z, u) => {
    const row = element("tr");
    row.dataset.unit = `${u}`;
    const vanishing = layer.saturated.includes(u + 1);
    row.classList.toggle("vanishing", vanishing);
    const grads = layer.weight_grad[u];
    const updates = layer.weight_update ? layer.weight_update[u] : null;
    const cells = [unitName(result, l, u), num(z), num(layer.a[u]),
      layer.slope ? num(layer.slope[u]) : "—", num(layer.delta[u]), num(maxAbs(grads)),
      updates ? num(maxAbs(updates)) : "—", layer.bias_update ? num(layer.bias_update[u]) : "—"];
    cells.forEach((text) => row.append(element("td", "", text)));
    // the row's ∂L/∂w = δ · a⁽ˡ⁻¹⁾ᵢ with the numbers, on hover
    row.title = grads.slice(0, MAX_TERMS).map((g, i) => `∂L/∂w${sub(i + 1)} = δ·a${sub(i + 1)} = ` +
      `(${num(layer.delta[u])})(${num(aIn[i])}) = ${num(g)}`).join("\n") +
      (grads.length > MAX_TERMS ? "\n…" : "");
    table.append(row);
  });
  const scroll = element("div", "explain-scroll");
  scroll.append(table);
  box.append(scroll);
  if (layer.saturated.length) {  // one note for the layer's units with f'(z) ≈ 0
    const names = layer.saturated.map((unit) => unitName(result, l, unit - 1).replace("unit ", ""));
    const list = names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}` : names[0];
    const slopes = layer.saturated.map((unit) => num(layer.slope[unit - 1])).join(", ");
    const one = names.length === 1;
    box.append(element("p", "vanishing-note", `${one ? "Unit" : "Units"} ${list}: f′(z) ≈ 0 ` +
      `(${slopes}; below ${100 * result.saturation_fraction}% of ${layer.activation}'s largest ` +
      `slope ${num(layer.max_slope)}), so δ ≈ 0 and ${one ? "its" : "their"} incoming weights ` +
      `and bias barely change: ${one ? "it hardly learns" : "they hardly learn"} from this example.`));
  }
  return box;
}

function showExplanation(result) {
  app.explanation = result;
  labelOptions(result);
  const box = $("explain");
  box.dataset.epoch = `${result.epoch}`;
  const point = `p = (${fmt(result.point[0])}, ${fmt(result.point[1])})`;
  const source = result.label_from === "chosen" ? "the class you picked"
    : `the label of the nearest training point (${fmt(result.nearest[0])}, ${fmt(result.nearest[1])})`;
  const y = result.regression ? num(result.label) : `${result.label}`;
  const parts = [element("p", "explain-point", `At ${point}, epoch ${result.epoch}: y = ${y}, ${source}.`)];
  if (result.unsupported) {
    box.dataset.verified = "";
    parts.push(element("p", "warning", `No explanation here: ${result.unsupported}. Choose another ` +
      "activation for that layer to see backpropagation step by step."));
    box.replaceChildren(...parts);
    return;
  }
  let prediction;
  if (result.regression) prediction = `ŷ = ${num(result.output[0])}`;
  else if (result.probabilities.length > 1) prediction = `P(class ${result.label}) = ${num(result.probabilities[result.label])}`;
  else prediction = `P(class 1) = σ(z) = ${num(result.probabilities[0])}`;
  parts.push(element("p", "", `${prediction}; loss L = ${result.loss_name}${result.penalty ? " + penalty" : ""} = ${num(result.loss)}`));
  box.dataset.verified = `${result.verified}`;
  parts.push(element("p", result.verified ? "verified" : "not-verified",
    `${result.verified ? "✓ verified" : "✗ NOT verified"}: every δ, ∂L/∂W and ∂L/∂b equals ` +
    `chainrule's own gradient (max |Δ| ${Number(result.max_difference).toExponential(1)})`));
  result.layers.forEach((layer, l) => parts.push(layerTable(result, layer, l)));
  const rule = element("details", "explain-update");
  rule.append(element("summary", "", "Δw, Δb: the optimizer's step for this one example"), element("p", "", result.optimizer_rule));
  parts.push(rule);
  if (result.dropout) parts.push(element("p", "note", "Dropout is off here, as when evaluating."));
  box.replaceChildren(...parts);
}

function showActivation(state) {
  const view = state.activation;
  for (const column of document.querySelectorAll(".hidden-layer")) {
    column.classList.toggle("selected", view !== null && Number(column.dataset.layer) === view.layer);
  }
  if (!view) {
    $("activation-title").textContent = "No hidden layer: a linear model";
    $("activation-formulas").textContent = "";
    Draw.activation($("activation-plot"), null);
    return;
  }
  $("activation-title").textContent = `Layer ${view.layer + 1}: ${view.name} — g, g′ and the z it sees`;
  Draw.activation($("activation-plot"), view);
  const outside = view.outside ? ` · ${view.outside} values of z outside the plot` : "";
  $("activation-formulas").textContent = `${view.formula}\n${view.derivative_formula}${outside}`;
}

function applyState(state) {
  app.state = state;
  const key = JSON.stringify(state.setup);
  if (key !== app.setupKey) {
    app.setupKey = key;
    app.setup = state.setup;
    renderControls(state.setup);
    buildNetwork(state.setup, state.classes);
    history.replaceState(null, "", `#${hashFromSetup(state.setup)}`);
  }
  showStats(state);
  drawNeurons(state);
  drawLinks();
  markHealth(state);
  showBiasVariance(state);
  drawBoundary();
  showActivation(state);
  requestExplanation();
  document.body.dataset.epoch = `${state.epoch}`;
}

wireControls();
connect();
