// IoTDA emulator console: devices, live trace (server-sent events), and
// forms calling the emulator's v5 REST API (the same calls an application
// makes on Huawei's platform).
"use strict";

const state = {
  project: "local",
  devices: new Map(),       // device_id -> summary
  selected: null,
  lastReport: new Map(),    // device_id -> payload text
  maxTrace: 500,
};

const $ = (id) => document.getElementById(id);

function api(path) {
  return `/v5/iot/${encodeURIComponent(state.project)}/devices/${encodeURIComponent(state.selected)}${path}`;
}

async function call(method, url, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(url, opts);
  const text = await r.text();
  let json;
  try { json = text ? JSON.parse(text) : null; } catch (e) { json = text; }
  return { status: r.status, ok: r.ok, json };
}

function show(id, res) {
  const el = $(id);
  el.textContent = `HTTP ${res.status}\n` + JSON.stringify(res.json, null, 2);
  el.classList.toggle("error", !res.ok);
}

function parseObject(text, what) {
  let v;
  try { v = JSON.parse(text); } catch (e) { throw new Error(`${what}: not JSON (${e.message})`); }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error(`${what}: must be a JSON object`);
  return v;
}

function td(text, cls) {
  const c = document.createElement("td");
  c.textContent = text === null || text === undefined ? "" : String(text);
  if (cls) c.className = cls;
  return c;
}

function renderDevices() {
  const body = $("devices").querySelector("tbody");
  body.textContent = "";
  const ids = [...state.devices.keys()].sort();
  for (const id of ids) {
    const d = state.devices.get(id);
    const tr = document.createElement("tr");
    tr.dataset.deviceId = id;
    if (id === state.selected) tr.classList.add("selected");
    tr.append(
      td(id, "device-id"),
      td(d.status, `status ${d.status}`),
      td(d.last_login, "last-login"),
      td(d.last_logout, "last-logout"),
      td(d.client_id),
      td(d.tls === null || d.tls === undefined ? "" : (d.tls ? "yes" : "no")),
      td(d.uplinks, "uplinks"),
      td((d.subscriptions || []).map((s) => s.topic).join("\n")),
    );
    tr.addEventListener("click", () => select(id));
    body.append(tr);
  }
  const sel = $("device-select");
  const current = sel.value;
  sel.textContent = "";
  for (const id of ids) {
    const o = document.createElement("option");
    o.value = id; o.textContent = id;
    sel.append(o);
  }
  if (state.selected) sel.value = state.selected; else if (current) sel.value = current;
}

async function loadDevices() {
  const r = await call("GET", "/emulator/devices");
  if (!r.ok) return;
  state.devices.clear();
  for (const d of r.json.devices) state.devices.set(d.device_id, d);
  if (!state.selected && state.devices.size) {
    const online = [...state.devices.values()].find((d) => d.online);
    state.selected = (online || state.devices.values().next().value).device_id;
  }
  renderDevices();
  renderSelected();
}

function select(id) {
  state.selected = id;
  renderDevices();
  renderSelected();
}

function renderSelected() {
  $("last-report").textContent = state.lastReport.get(state.selected) || "(none yet)";
  loadShadow();
}

async function loadShadow() {
  if (!state.selected) return;
  const r = await call("GET", api("/shadow"));
  $("shadow").textContent = r.ok ? JSON.stringify(r.json.shadow, null, 2) : `HTTP ${r.status}`;
}

function time(ms) {
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
}

function addTrace(ev) {
  const body = $("trace").querySelector("tbody");
  const tr = document.createElement("tr");
  tr.className = `k-${ev.kind}`;
  tr.dataset.kind = ev.kind;
  tr.dataset.deviceId = ev.device_id || "";
  let detail = "";
  switch (ev.kind) {
    case "uplink":
    case "downlink":
      detail = (ev.encoding === "base64" ? "[base64] " : "") + ev.payload +
        (ev.request_id ? `  (request_id=${ev.request_id})` : "") + (ev.qos !== undefined ? `  qos=${ev.qos}` : "");
      break;
    case "rejected": detail = ev.reason; break;
    case "online": detail = `client_id=${ev.client_id} from ${ev.peer}${ev.tls ? " (TLS)" : ""}`; break;
    case "offline": detail = ev.reason; break;
    case "device":
      detail = ev.message_id ? `message ${ev.message_id}: ${ev.message_status}` : (ev.deleted ? "deleted" : "changed");
      break;
    default: detail = JSON.stringify(ev);
  }
  tr.append(td(ev.time_ms ? time(ev.time_ms) : ""), td(ev.device_id), td(ev.kind, "kind"), td(ev.topic || "", "topic"), td(detail, "detail"));
  if ($("trace-only-selected").checked && ev.device_id !== state.selected) tr.hidden = true;
  body.prepend(tr);
  while (body.children.length > state.maxTrace) body.lastChild.remove();
}

function onEvent(ev) {
  addTrace(ev);
  if (ev.summary) {
    state.devices.set(ev.device_id, ev.summary);
    if (!state.selected) state.selected = ev.device_id;
    renderDevices();
  } else if (ev.kind === "device" && ev.deleted) {
    state.devices.delete(ev.device_id);
    renderDevices();
  }
  if (ev.kind === "uplink") {
    const d = state.devices.get(ev.device_id);
    if (d && typeof ev.uplinks === "number") { d.uplinks = ev.uplinks; renderDevices(); }
    if (/\/sys\/properties\/report$/.test(ev.topic)) {
      state.lastReport.set(ev.device_id, ev.payload);
      if (ev.device_id === state.selected) $("last-report").textContent = ev.payload;
    }
  }
  if (ev.device_id === state.selected && (ev.kind === "device" || (ev.kind === "uplink" && /properties\/report/.test(ev.topic)))) {
    loadShadow();
  }
}

function connect() {
  const es = new EventSource("/emulator/events");
  es.onopen = () => { $("stream-state").textContent = "trace: live"; $("stream-state").classList.remove("off"); };
  es.onerror = () => { $("stream-state").textContent = "trace: reconnecting"; $("stream-state").classList.add("off"); };
  es.onmessage = (m) => {
    let ev;
    try { ev = JSON.parse(m.data); } catch (e) { return; }
    onEvent(ev);
  };
}

function guard(form, id, fn) {
  $(form).addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!state.selected) { $(id).textContent = "select a device first"; return; }
    $(id).textContent = "...";
    try { show(id, await fn()); } catch (err) {
      $(id).textContent = String(err.message || err);
      $(id).classList.add("error");
    }
  });
}

function setup() {
  $("device-select").addEventListener("change", (e) => select(e.target.value));
  $("shadow-refresh").addEventListener("click", loadShadow);
  $("trace-only-selected").addEventListener("change", () => {
    const only = $("trace-only-selected").checked;
    for (const tr of $("trace").querySelectorAll("tbody tr")) tr.hidden = only && tr.dataset.deviceId !== state.selected;
  });
  guard("msg-form", "msg-result", () => {
    const body = { message: $("msg-text").value, payload_format: $("msg-format").value };
    if ($("msg-topic").value) body.topic_full_name = $("msg-topic").value;
    return call("POST", api("/messages"), body);
  });
  guard("cmd-form", "cmd-result", () => call("POST", api("/commands"), {
    service_id: $("cmd-service").value || undefined,
    command_name: $("cmd-name").value || undefined,
    paras: parseObject($("cmd-paras").value, "paras"),
  }));
  guard("pset-form", "pset-result", () => call("PUT", api("/properties"), {
    services: [{ service_id: $("pset-service").value, properties: parseObject($("pset-props").value, "properties") }],
  }));
  guard("pget-form", "pget-result", () =>
    call("GET", api(`/properties?service_id=${encodeURIComponent($("pget-service").value)}`)));
  guard("shadow-form", "shadow-result", async () => {
    const r = await call("PUT", api("/shadow"), {
      shadow: [{ service_id: $("shadow-service").value, desired: parseObject($("shadow-desired").value, "desired") }],
    });
    if (r.ok) $("shadow").textContent = JSON.stringify(r.json.shadow, null, 2);
    return r;
  });
}

async function main() {
  setup();
  const info = await call("GET", "/emulator/info");
  if (info.ok) { state.project = info.json.project_id; $("project").textContent = `project ${state.project}`; }
  await loadDevices();
  connect();
}

main();
