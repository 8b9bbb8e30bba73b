// Rastro's command-centre UI: a map of ports, alerts and leads, the alert queue, ranked leads
// and the audit log, in Spanish or English. Everything comes from the JSON API with the user's
// token, so every screen shows exactly what the server's policy lets that user see.
import L from "leaflet";
import { FluentBundle, FluentResource } from "@fluent/bundle";
import { feature } from "topojson-client";
import cytoscape from "cytoscape";
import es from "./locales/es.ftl";
import en from "./locales/en.ftl";

const bundles = {};
for (const [lang, text] of [["es", es], ["en", en]]) {
  const b = new FluentBundle(lang, { useIsolating: false });
  b.addResource(new FluentResource(text));
  bundles[lang] = b;
}
let lang = localStorage.getItem("rastro-lang") || "es";
function t(id, args) {
  const b = bundles[lang];
  const m = b.getMessage(id);
  return m && m.value ? b.formatPattern(m.value, args) : id;
}
function translatePage() {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-l10n]").forEach((el) => { el.textContent = t(el.dataset.l10n); });
  document.querySelectorAll("[data-l10n-label]").forEach((el) => { el.setAttribute("aria-label", t(el.dataset.l10nLabel)); });
}

const $ = (s) => document.querySelector(s);
let token = sessionStorage.getItem("rastro-token");
let me = null;
let view = "map";

async function api(path, opts = {}) {
  const r = await fetch("/api/v1" + path, {
    ...opts,
    headers: { Authorization: "Bearer " + token, "Content-Type": "application/json", ...(opts.headers || {}) },
  });
  if (r.status === 401) { logout(); throw new Error("unauthenticated"); }
  const body = await r.json().catch(() => null);
  if (!r.ok) throw new Error((body && (body.message || body.error)) || r.statusText);
  return body;
}

function tlp(m) {
  const s = document.createElement("span");
  const level = (m && m.tlp) || "RED";
  s.className = "tlp tlp-" + level;
  s.textContent = "TLP:" + level + (m && m.releasable_to && m.releasable_to.length ? " → " + m.releasable_to.join(",") : "");
  return s;
}
function td(content) {
  const c = document.createElement("td");
  if (content instanceof Node) c.append(content); else c.textContent = content ?? "";
  return c;
}
function button(label, onclick) {
  const b = document.createElement("button");
  b.textContent = label;
  b.addEventListener("click", onclick);
  return b;
}

// ---- map ----
let map, layers, layerControl, legend, fitted = false, alertsCache = [], leadsCache = [], portsCache = [];
// The map fits what the viewer may see until the analyst moves it; a resize refits it then.
let fitPoints = null, userMoved = false, fitting = false, fits = 0;
function fitToData() {
  if (!map || !fitPoints || fitPoints.length < 2) return;
  fitting = true;
  map.fitBounds(L.latLngBounds(fitPoints), { padding: [24, 24], maxZoom: 8, animate: false });
  fitting = false;
  document.body.dataset.mapFits = String(++fits);
}
window.addEventListener("resize", () => {
  if (!map) return;
  map.invalidateSize();
  if (!userMoved) fitToData();
});
async function showMap() {
  if (!map) {
    map = L.map("map", { zoomControl: true, attributionControl: false, preferCanvas: false }).setView([23.5, -102], 5);
    const world = await (await fetch("/assets/countries-50m.json")).json();
    const countries = feature(world, world.objects.countries);
    L.geoJSON(countries, {
      style: (f) => ({ color: "#6b7c93", weight: f.id === "484" ? 1.5 : 0.6, fillColor: f.id === "484" ? "#f7f3e8" : "#e3e6ea", fillOpacity: 1 }),
      interactive: false,
    }).addTo(map);
    // Leads sit above alerts, so a click on a lead's centre opens the lead.
    map.createPane("leads").style.zIndex = 450;
    layers = { ports: L.layerGroup().addTo(map), tracks: L.layerGroup().addTo(map), alerts: L.layerGroup().addTo(map), leads: L.layerGroup().addTo(map) };
    L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
    map.on("dragstart zoomstart", () => { if (!fitting) userMoved = true; });
    fitted = false;
  }
  // The layer box and the legend are rebuilt on every visit, so they follow the language.
  if (layerControl) layerControl.remove();
  layerControl = L.control.layers(null, { [t("layer-ports")]: layers.ports, [t("layer-tracks")]: layers.tracks, [t("layer-alerts")]: layers.alerts, [t("layer-leads")]: layers.leads }, { collapsed: false }).addTo(map);
  if (legend) legend.remove();
  legend = L.control({ position: "bottomright" });
  legend.onAdd = () => {
    const box = el("div", "legend");
    const item = (cls, key) => { const r = el("div"); r.append(el("span", "swatch " + cls), t(key)); box.append(r); };
    item("sw-port", "legend-port"); item("sw-alert", "legend-alert"); item("sw-lead", "legend-lead"); item("sw-track", "legend-track");
    return box;
  };
  legend.addTo(map);
  const [ports, alerts, leadsGeo] = await Promise.all([
    api("/ports"),
    api("/alerts?limit=1000"),
    api("/leads.geojson"),
  ]);
  portsCache = ports; alertsCache = alerts; leadsCache = leadsGeo.features;
  layers.ports.clearLayers();
  for (const p of ports) {
    L.circleMarker([p.lat, p.lon], { radius: 6, color: "#0b4f8a", fillColor: "#2f80d1", fillOpacity: 0.9, className: "port" })
      .bindTooltip(p.name + " (" + p.locode + ")").addTo(layers.ports);
  }
  layers.leads.clearLayers();
  L.geoJSON(leadsGeo, {
    pane: "leads",
    style: () => ({ color: "#c2410c", weight: 1, fillColor: "#f97316", fillOpacity: 0.55, className: "lead-cell" }),
    onEachFeature: (f, l) => l.on("click", () => showDetails("lead", f.properties, f.id)),
  }).addTo(layers.leads);
  // H3 cells are a few hundred metres across: invisible at national zoom, so each lead also
  // gets a ring at its centre, numbered by rank.
  for (const f of leadsGeo.features) {
    const [lon, lat] = f.properties.centre;
    L.circleMarker([lat, lon], { pane: "leads", radius: 11, color: "#c2410c", weight: 3, fillColor: "#f97316", fillOpacity: 0.35, className: "lead-centre" })
      .bindTooltip("#" + f.properties.rank, { permanent: true, direction: "right", className: "lead-rank" })
      .on("click", () => showDetails("lead", f.properties, f.id))
      .addTo(layers.leads);
  }
  const times = alerts.map((a) => Date.parse(a.time)).filter((x) => !isNaN(x));
  const slider = $("#time");
  slider.min = times.length ? Math.min(...times) : 0;
  slider.max = times.length ? Math.max(...times) : 1;
  slider.value = slider.max;
  drawAlerts();
  // Fit to what the viewer may see, once; later visits keep the analyst's view.
  if (!fitted) {
    fitPoints = [...ports.map((p) => [p.lat, p.lon]), ...alerts.filter((a) => a.lat != null).map((a) => [a.lat, a.lon]), ...leadsGeo.features.map((f) => [f.properties.centre[1], f.properties.centre[0]])];
    fitToData();
    fitted = true;
  }
  document.body.dataset.mapReady = "1";
}
function drawAlerts() {
  const until = Number($("#time").value);
  $("#time-label").textContent = alertsCache.some((a) => a.time) ? fmtTime(new Date(until).toISOString()) : t("time-no-alerts");
  layers.alerts.clearLayers();
  let n = 0;
  // Alerts within about 100 m of each other are one marker with their count, so a stack of
  // alerts at one stop does not look like one alert; its panel lists them all.
  const stacks = new Map();
  for (const a of alertsCache) {
    if (a.lat == null || Date.parse(a.time) > until) continue;
    n++;
    const key = a.lat.toFixed(3) + "," + a.lon.toFixed(3);
    if (!stacks.has(key)) stacks.set(key, []);
    stacks.get(key).push(a);
  }
  let stacked = 0;
  for (const group of stacks.values()) {
    const a = group[0];
    const top = Math.max(...group.map((x) => x.score));
    const m = L.circleMarker([a.lat, a.lon], { radius: 4 + 4 * top, color: "#7f1d1d", fillColor: "#dc2626", fillOpacity: 0.8, weight: group.length > 1 ? 2 : 1, className: group.length > 1 ? "alert-marker alert-stack" : "alert-marker" })
      .on("click", () => (group.length > 1 ? showDetails("stack", group) : showDetails("alert", a)))
      .addTo(layers.alerts);
    if (group.length > 1) {
      stacked++;
      m.bindTooltip("×" + group.length, { permanent: true, direction: "center", className: "stack-count" });
    }
  }
  document.body.dataset.alertStacks = String(stacked);
  // The panel never keeps showing an alert the slider has hidden.
  if (shownAlert && !(Date.parse(shownAlert.time) <= until)) $("#details").replaceChildren();
  $("#map-stats").textContent = t("map-stats", { alerts: n, leads: leadsCache.length, ports: portsCache.length });
  $("#map-stats").dataset.alerts = n;
  $("#map-stats").dataset.leads = leadsCache.length;
}
let shownAlert = null;
function showDetails(kind, x, id) {
  const d = $("#details");
  d.replaceChildren();
  shownAlert = kind === "alert" ? x : kind === "stack" ? x.reduce((a, b) => (Date.parse(a.time) > Date.parse(b.time) ? a : b)) : null;
  if (kind === "stack") {
    d.append(el("h3", null, t("alert-stack", { n: x.length })));
    const ul = document.createElement("ul");
    for (const a of [...x].sort((p, q) => q.score - p.score)) {
      const li = document.createElement("li");
      const link = document.createElement("a");
      link.href = "#"; link.textContent = alertSentence(a) + " — " + fmtTime(a.time);
      link.addEventListener("click", (e) => { e.preventDefault(); showDetails("alert", a); });
      li.append(link, " ", el("span", "raw", a.subject));
      ul.append(li);
    }
    d.append(ul);
    return;
  }
  if (kind === "track") {
    const h = document.createElement("h3");
    h.textContent = x.consignment.id;
    const p = document.createElement("p");
    p.textContent = (x.status ? t("status-" + x.status) + " · " : "") + t("track-fixes", { n: x.track.properties.fixes }) + " · " + x.consignment.description;
    d.append(h, tlp(x.consignment.marking), p);
    return;
  }
  const h = document.createElement("h3");
  h.textContent = kind === "lead" ? (id + " · #" + x.rank) : t("typology-" + x.typology);
  d.append(h, tlp(kind === "lead" ? { tlp: x.tlp, releasable_to: [] } : x.marking));
  const p = document.createElement("p");
  p.textContent = kind === "lead" ? t("lead-rank-score", { rank: x.rank, score: fmtNum(x.score, 2) }) : (alertSentence(x) + " — " + x.subject);
  if (kind === "lead") { const go = document.createElement("a"); go.href = "#/lead/" + encodeURIComponent(id); go.textContent = t("open-lead"); d.append(p, go); return; }
  d.append(p);
  if (kind === "alert") {
    const ev = document.createElement("p");
    ev.append(t("evidence") + ": ", el("span", "raw", x.evidence.join(", ")));
    d.append(ev);
  }
}

// ---- consignments ----
async function showConsignments() {
  const st = $("#status-filter").value;
  const list = await api("/consignments?limit=500" + (st ? "&status=" + encodeURIComponent(st) : ""));
  const rows = $("#consignment-rows");
  rows.replaceChildren();
  if (!list.length) {
    const tr = document.createElement("tr");
    const c = td(t("consignments-none")); c.colSpan = 6; tr.append(c); rows.append(tr);
  }
  for (const { consignment: c, status } of list) {
    const tr = document.createElement("tr");
    tr.className = "consignment-row";
    tr.dataset.id = c.id;
    tr.tabIndex = 0;
    const open = () => { location.hash = "#/consignment/" + encodeURIComponent(c.id); };
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
    tr.append(td(c.id), td(c.description + " (" + c.cas + ")"), td(c.quantity + " " + c.unit), td(c.destination), td(status ? t("status-" + status) : ""), td(tlp(c.marking)));
    tr.addEventListener("click", open);
    rows.append(tr);
  }
}
async function consignmentDetail(id) {
  const d = $("#consignment-detail");
  document.querySelectorAll(".consignment-row").forEach((r) => r.classList.toggle("selected", r.dataset.id === id));
  let x;
  try { x = await api("/consignments/" + encodeURIComponent(id)); } catch (e) { banner(e); return; }
  d.replaceChildren();
  const h = document.createElement("h3");
  h.textContent = id;
  d.append(h, tlp(x.consignment.marking));
  const n = x.track.properties.fixes;
  const trackP = document.createElement("p");
  trackP.append((x.status ? t("status-" + x.status) + " · " : "") + t("track-fixes", { n }) + " ");
  if (n > 1) trackP.append(button(t("show-on-map"), () => showTrack(x)));
  d.append(trackP);
  const h2 = document.createElement("h4");
  h2.textContent = t("custody");
  const table = document.createElement("table");
  for (const e of x.custody) {
    const tr = document.createElement("tr");
    tr.append(timeCell(new Date(e.time_ms).toISOString()), td(code("custody-", e.event)), td(e.place || ""), td(tlp(e.marking)));
    table.append(tr);
  }
  d.append(h2, table);
  d.scrollIntoView({ block: "nearest" });
  const who = document.createElement("p");
  who.append(t("col-consignee") + ": " + x.consignment.consignee + " ", button(t("entity-of-consignee"), () => openEntity(x.consignment.consignee)));
  d.append(who);
  const h3 = document.createElement("h4");
  h3.textContent = t("nav-alerts");
  d.append(h3);
  for (const a of x.alerts) {
    const p = document.createElement("p");
    p.append(tlp(a.marking), " " + t("typology-" + a.typology) + " (" + fmtNum(a.score, 2) + "): " + alertSentence(a) + " — " + t("evidence") + ": ", el("span", "raw", a.evidence.join(", ")));
    d.append(p);
  }
}

const STATUS_COLOURS = { at_port: "#6b7280", in_transit: "#2563eb", delivered: "#16a34a", overdue: "#ea580c", lost: "#dc2626" };
async function showTrack(x) {
  await show("map");
  layers.tracks.clearLayers();
  const line = L.geoJSON(x.track, { style: { color: STATUS_COLOURS[x.status] || "#6b7280", weight: 3, className: "track-line" } }).addTo(layers.tracks);
  map.fitBounds(line.getBounds(), { padding: [30, 30] });
  showDetails("track", x);
}

// ---- export: every row carries its marking, the file starts with the highest one ----
const TLP_ORDER = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"];
function highestTlp(markings) {
  let i = 0;
  // A marking this page does not know counts as RED: the header never understates a row.
  for (const m of markings) { const j = TLP_ORDER.indexOf(m && m.tlp); i = Math.max(i, j < 0 ? TLP_ORDER.length - 1 : j); }
  return TLP_ORDER[i];
}
function csvField(x) {
  const v = x == null ? "" : String(x);
  return /[",\n\r]/.test(v) ? '"' + v.replaceAll('"', '""') + '"' : v;
}
function exportAlertsCsv(list) {
  const lines = ["# TLP:" + highestTlp(list.map((a) => a.marking)) + " " + t("export-marking-note"),
    ["id", "typology", "subject", "time_utc", "score", "lat", "lon", "triage", "tlp", "releasable_to", "summary"].join(",")];
  for (const a of list) lines.push([a.id, a.typology, a.subject, a.time, a.score, a.lat, a.lon, alertState(a), a.marking.tlp, (a.marking.releasable_to || []).join(";"), a.summary].map(csvField).join(","));
  downloadCsv(lines, "rastro-alerts.csv");
}
function downloadCsv(lines, name) {
  const url = URL.createObjectURL(new Blob([lines.join("\n") + "\n"], { type: "text/csv" }));
  const link = document.createElement("a");
  link.href = url; link.download = name; link.click();
  document.body.dataset.exportRows = String(lines.length - 2);
  document.body.dataset.exportHead = lines[0];
}

// ---- alerts: the triage surface ----
// One state object for the queue: what was fetched, the filters, the sort and the selection.
const queue = { alerts: [], triage: {}, sort: "score", desc: true, selected: null };
async function showAlerts() {
  const q = await api("/alert-queue?limit=1000");
  queue.alerts = q.alerts; queue.triage = q.triage;
  const sel = $("#af-typology");
  const keep = sel.value;
  sel.replaceChildren(new Option(t("status-any"), ""));
  for (const ty of [...new Set(q.alerts.map((a) => a.typology))].sort()) sel.append(new Option(codeText("typology-", ty), ty));
  sel.value = keep;
  renderAlerts();
  // A re-render (new language, new triage) keeps the selected alert's detail, said anew.
  const sel2 = queue.selected && q.alerts.find((x) => x.id === queue.selected);
  if (sel2) selectAlert(sel2); else $("#alert-detail").replaceChildren();
  plotAlerts(q.alerts);
  plotScores(q.alerts);
}
function alertState(a) { const tri = queue.triage[a.id]; return tri ? tri.state : "new"; }
function filteredAlerts() {
  const ty = $("#af-typology").value, st = $("#af-state").value, loc = $("#af-location").value;
  const min = Number($("#af-min-score").value || 0), hide = $("#af-hide-dismissed").checked;
  const text = $("#af-text").value.trim().toLowerCase();
  const out = queue.alerts.filter((a) => {
    const s = alertState(a);
    if (hide && s === "dismissed" && st !== "dismissed") return false;
    if (ty && a.typology !== ty) return false;
    if (st && s !== st) return false;
    if (loc === "yes" && a.lat == null) return false;
    if (loc === "no" && a.lat != null) return false;
    if (a.score < min) return false;
    if (text && !(a.subject.toLowerCase().includes(text) || a.id.toLowerCase().includes(text))) return false;
    return true;
  });
  const key = queue.sort, dir = queue.desc ? -1 : 1;
  const val = (a) => key === "score" ? a.score : key === "time" ? Date.parse(a.time) : key === "typology" ? codeText("typology-", a.typology) : key === "state" ? alertState(a) : a.subject;
  out.sort((x, y) => { const u = val(x), v = val(y); return (u < v ? -1 : u > v ? 1 : 0) * dir; });
  return out;
}
function renderAlerts() {
  const list = filteredAlerts();
  const rows = $("#alerts-rows");
  rows.replaceChildren();
  const located = list.filter((a) => a.lat != null).length;
  $("#alerts-total").textContent = t("alerts-total", { shown: list.length, total: queue.alerts.length, located });
  document.querySelectorAll("#alerts-view th[data-sort]").forEach((th) => {
    th.setAttribute("aria-sort", th.dataset.sort === queue.sort ? (queue.desc ? "descending" : "ascending") : "none");
  });
  if (!list.length) {
    const tr = document.createElement("tr");
    const c = td(t(queue.alerts.length ? "alerts-none-filtered" : "alerts-none")); c.colSpan = 9; tr.append(c); rows.append(tr);
  }
  for (const a of list) {
    const tr = document.createElement("tr");
    tr.className = "alert-row" + (queue.selected === a.id ? " selected" : "");
    tr.dataset.id = a.id;
    tr.tabIndex = 0;
    const tri = queue.triage[a.id];
    const state = td(tri ? t("triage-" + tri.state) + (tri.reason ? ": " + tri.reason : "") : t("triage-new"));
    state.className = "triage";
    const pick = document.createElement("input");
    pick.type = "checkbox"; pick.className = "alert-pick"; pick.value = a.id;
    pick.setAttribute("aria-label", t("select-alert", { id: a.id }));
    const actions = document.createElement("td");
    actions.append(
      button(t("acknowledge"), () => triage([a.id], "acknowledged")),
      button(t("dismiss"), () => { const r = prompt(t("dismiss-reason")); if (r) triage([a.id], "dismissed", r); }),
      button(t("escalate"), () => triage([a.id], "escalated")),
    );
    const subject = document.createElement("a");
    subject.className = "raw";
    subject.textContent = a.subject;
    if (!a.subject.startsWith("cell:")) subject.href = "#/consignment/" + encodeURIComponent(a.subject);
    tr.append(td(pick), td(fmtNum(a.score, 2)), td(t("typology-" + a.typology)), td(alertSentence(a)), td(subject), timeCell(a.time), td(tlp(a.marking)), state, actions);
    const open = (e) => { if (!["BUTTON", "INPUT", "A"].includes(e.target.tagName)) selectAlert(a); };
    tr.addEventListener("click", open);
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter") open(e); });
    rows.append(tr);
  }
}
// An alert said in the user's language: its typology's sentence with the figures the server
// sends as facts; the server's English summary is kept for the detail pane's hover.
function alertSentence(a) {
  if (!known("alert-sentence-" + a.typology)) return codeText("typology-", a.typology);
  return t("alert-sentence-" + a.typology, { evidence: a.evidence.length, score: fmtNum(a.score, 2) });
}
function selectAlert(a) {
  queue.selected = a.id;
  document.querySelectorAll(".alert-row").forEach((r) => r.classList.toggle("selected", r.dataset.id === a.id));
  const d = $("#alert-detail");
  d.replaceChildren();
  d.append(el("h3", null, t("typology-" + a.typology)), tlp(a.marking));
  const p = el("p", null, alertSentence(a));
  p.title = a.summary;
  d.append(p);
  d.append(el("p", null, t("evidence") + ": "));
  d.lastChild.append(el("span", "raw", a.evidence.join(", ")));
  if (a.lat != null) d.append(button(t("show-on-map"), async () => { await show("map"); map.setView([a.lat, a.lon], 11); showDetails("alert", a); }));
  else d.append(el("p", "hidden-facet", t("alert-no-location")));
  if (!a.subject.startsWith("cell:")) d.append(button(t("open-consignment"), () => { location.hash = "#/consignment/" + encodeURIComponent(a.subject); }));
  d.scrollIntoView({ block: "nearest" });
}
async function triage(ids, s, reason) {
  try {
    for (const id of ids) await api("/alerts/" + encodeURIComponent(id) + "/triage", { method: "POST", body: JSON.stringify({ state: s, reason }) });
  } catch (e) { banner(e); }
  await showAlerts();
}
function plotScores(alerts) {
  // The score distribution: how sure the detectors are, in tenths.
  const svg = $("#scores-plot");
  svg.replaceChildren();
  const ns = "http://www.w3.org/2000/svg";
  const bins = new Array(10).fill(0);
  for (const a of alerts) bins[Math.min(9, Math.floor(a.score * 10))]++;
  const max = Math.max(1, ...bins);
  const title = document.createElementNS(ns, "text");
  title.setAttribute("x", 4); title.setAttribute("y", 14); title.textContent = t("plot-scores");
  svg.append(title);
  bins.forEach((n, i) => {
    const r = document.createElementNS(ns, "rect");
    const h = (n / max) * 80;
    r.setAttribute("x", 10 + i * 30); r.setAttribute("y", 100 - h);
    r.setAttribute("width", 26); r.setAttribute("height", h); r.setAttribute("fill", "#7c3aed");
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", 12 + i * 30); label.setAttribute("y", 114); label.setAttribute("font-size", "10");
    label.textContent = (i / 10).toFixed(1);
    svg.append(r, label);
  });
}
function plotAlerts(alerts) {
  const svg = $("#alerts-plot");
  svg.replaceChildren();
  const weeks = new Map();
  for (const a of alerts) {
    const w = Math.floor(Date.parse(a.time) / (7 * 86400000));
    if (!isNaN(w)) weeks.set(w, (weeks.get(w) || 0) + 1);
  }
  const ks = [...weeks.keys()].sort((x, y) => x - y);
  const max = Math.max(1, ...weeks.values());
  const ns = "http://www.w3.org/2000/svg";
  const title = document.createElementNS(ns, "text");
  title.setAttribute("x", 4); title.setAttribute("y", 14); title.textContent = t("plot-title");
  svg.append(title);
  if (!ks.length) return;
  const span = ks[ks.length - 1] - ks[0] + 1, w = 620 / span;
  for (const k of ks) {
    const r = document.createElementNS(ns, "rect");
    const h = (weeks.get(k) / max) * 90;
    r.setAttribute("x", 10 + (k - ks[0]) * w); r.setAttribute("y", 110 - h);
    r.setAttribute("width", Math.max(1, w - 2)); r.setAttribute("height", h); r.setAttribute("fill", "#dc2626");
    svg.append(r);
  }
}

// ---- leads ----
async function showLeads() {
  const leads = await api("/leads?limit=100");
  const rows = $("#leads-rows");
  rows.replaceChildren();
  if (!leads.length) {
    const tr = document.createElement("tr");
    const c = td(t("leads-none")); c.colSpan = 6; tr.append(c); rows.append(tr);
  }
  for (const l of leads) {
    const tr = document.createElement("tr");
    tr.className = "lead-row";
    const actions = document.createElement("td");
    if (me.role === "commander") {
      actions.append(button(t("release"), async () => {
        let recipients;
        try { recipients = await releaseDialog(l); } catch (e) { banner(e); return; }
        if (!recipients) return;
        try {
          const r = await api("/leads/" + encodeURIComponent(l.id) + "/release", { method: "POST", body: JSON.stringify({ to: recipients }) });
          // The organisation's decision follows the release (an audited status change).
          if (l.status === "new" || l.status === "under_review") await api("/leads/" + encodeURIComponent(l.id) + "/status", { method: "POST", body: JSON.stringify({ status: "released", note: recipients.join(", ") }) });
          notice(t("release-done", { to: r.recipients.join(", "), sha: r.sha256.slice(0, 12) }));
          await showLeads();
          await showReleases();
        } catch (e) { banner(e); }
      }));
    }
    actions.append(button(t("package"), () => createPackage(l)));
    const changed = (l.releases || []).some((r) => !r.revoked && r.changed_since_release);
    if (changed) {
      const warn = document.createElement("span");
      warn.className = "changed-since-release";
      warn.textContent = " " + t("changed-since-release");
      actions.append(warn);
    }
    tr.dataset.id = l.id;
    tr.tabIndex = 0;
    tr.append(td(String(l.rank)), td(fmtNum(l.score, 2)), td(leadSummary(l)), td(t("status-" + l.status)), td(tlp(l.marking)), actions);
    const open = () => { location.hash = "#/lead/" + encodeURIComponent(l.id); };
    tr.addEventListener("click", (e) => { if (e.target.tagName !== "BUTTON") open(); });
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter" && e.target === tr) open(); });
    rows.append(tr);
  }
}
async function showReleases() {
  const rows = $("#releases-rows");
  rows.replaceChildren();
  const rs = await api("/releases");
  if (!rs.length) {
    const tr = document.createElement("tr");
    const c = td(t("releases-none")); c.colSpan = 7; tr.append(c); rows.append(tr);
  }
  for (const r of rs) {
    const tr = document.createElement("tr");
    tr.className = "release-row" + (r.revoked ? " revoked" : "");
    const actions = document.createElement("td");
    if (r.revoked) actions.append(t("release-revoked"));
    else if (me.role === "commander" && r.released_by === me.org) {
      actions.append(button(t("revoke"), async () => {
        try { await api("/releases/" + r.release + "/revoke", { method: "POST", body: "{}" }); await showLeads(); await showReleases(); } catch (e) { banner(e); }
      }));
    }
    tr.append(td(String(r.release)), td(r.released_by), td(r.recipients.join(", ")), timeCell(r.time), td(leadSummary(r.lead)), td(r.sha256.slice(0, 12)), actions);
    tr.addEventListener("click", (e) => { if (e.target.tagName !== "BUTTON") leadDetail(r.lead); });
    rows.append(tr);
  }
}
function leadDetail(l) {
  document.querySelectorAll(".lead-row").forEach((r) => r.classList.toggle("selected", r.dataset.id === l.id));
  const d = $("#lead-detail");
  d.replaceChildren();
  const h = document.createElement("h3");
  h.textContent = l.id + " — " + t("evidence");
  d.append(h);
  const table = document.createElement("table");
  for (const c of l.evidence) {
    const tr = document.createElement("tr");
    tr.append(td(fmtNum(c.contribution, 3)), td(code("evkind-", c.kind)), td(c.kind === "alert" ? code("typology-", c.detail) : c.detail), timeCell(c.time), td(tlp(c.marking)), td(el("span", "raw", c.origin)));
    table.append(tr);
  }
  d.append(table);
  d.scrollIntoView({ block: "nearest" });
  // The lead's own view carries the forensic groups tied to it (lists leave them out).
  api("/leads/" + encodeURIComponent(l.id)).then((full) => {
    const groups = (full && full.forensic_groups) || [];
    if (!groups.length || d.firstChild !== h) return;
    d.append(el("h4", null, t("forensic-groups")));
    const ft = document.createElement("table");
    ft.className = "forensic-groups";
    for (const g of groups) {
      const tr = document.createElement("tr");
      tr.append(td(g.group), td(g.seizures.join(", ")),
        td(t("forensic-nearest", { seizure: g.seizure, km: (g.distance_m / 1000).toFixed(1) })),
        td(t("forensic-method", { method: g.method, n: g.samples, mean: g.mean_value.toFixed(4) })));
      ft.append(tr);
    }
    d.append(ft);
  }).catch(banner);
}

// ---- forensic linkage: the calibration's two plots (SVG from the API) ----
async function showForensics() {
  const box = $("#forensics-plots");
  box.replaceChildren();
  let f;
  try { f = await api("/forensics"); } catch (e) { box.append(el("p", "error", e.message)); return; }
  if (!f.calibration) {
    box.append(el("p", null, t("forensic-uncalibrated")));
    return;
  }
  const c = f.calibration;
  box.append(el("p", null, t("forensic-summary", {
    method: c.pretreatment + " + " + c.distance, cmp: c.comparator, thr: c.threshold.toFixed(4),
    flr: (100 * c.false_link_rate).toFixed(2), auc: c.auc.toFixed(3), links: f.links_total, groups: f.groups.length,
  })));
  for (const which of ["distributions", "roc"]) {
    const r = await fetch("/api/v1/forensics/plot/" + which + "?lang=" + lang, { headers: { Authorization: "Bearer " + token } });
    if (!r.ok) continue;
    // The CSP allows data: images only; an SVG in <img> runs no script.
    const img = document.createElement("img");
    img.className = "forensic-plot";
    img.alt = t("forensic-plot-" + which);
    img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(await r.text());
    box.append(img);
  }
}

// ---- operations ----
const OP_STATES = ["draft", "proposed", "approved", "executed", "closed", "cancelled"];
let opsMap = null, selectedOp = null;

// Times are shown in the host nation's zone (the command is Mexican), with UTC on hover.
const HOST_TZ = "America/Mexico_City";
function fmtTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  return d.toLocaleString(lang === "es" ? "es-MX" : "en-GB", { timeZone: HOST_TZ, dateStyle: "medium", timeStyle: "short" });
}
function fmtNum(x, digits) {
  return Number(x).toLocaleString(lang === "es" ? "es-MX" : "en-GB", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
function timeCell(iso) {
  const c = td(fmtTime(iso));
  if (iso) c.title = "UTC " + new Date(iso).toISOString().replace("T", " ").slice(0, 19);
  return c;
}
// A code from the server said in the user's language; a code the locale does not know is
// shown as data (marked so the language walk in the browser test tells it from UI text).
function known(id) { return bundles[lang].hasMessage(id); }
function code(prefix, key) { return known(prefix + key) ? t(prefix + key) : el("span", "raw", key); }
// The same as text (law-file task names, option labels), where no element can be marked.
function codeText(prefix, key) { return known(prefix + key) ? t(prefix + key) : key; }
// Errors go to a banner in the user's language, never to window.alert or only the console.
function showBanner(text, cls) {
  const b = $("#banner");
  b.replaceChildren(el("span", null, text), button(t("close"), () => { b.hidden = true; }));
  b.className = cls;
  b.hidden = false;
}
function banner(err) { showBanner(t("error-banner", { message: err instanceof Error ? err.message : String(err) }), "error-banner"); }
function notice(msg) { showBanner(msg, "notice-banner"); }
// A lead's summary from its evidence, in the user's language (the server's sentence is English).
function leadSummary(l) {
  const counts = new Map();
  for (const c of l.evidence || []) {
    const k = c.kind === "alert" ? codeText("typology-", c.detail) : codeText("evkind-", c.kind);
    counts.set(k, (counts.get(k) || 0) + 1);
  }
  const parts = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => n + " × " + k);
  return t("lead-summary", { items: parts.join(", "), z: fmtNum(l.z_max || 0, 1) });
}
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}
function hiddenFacet() { return el("span", "hidden-facet", t("op-hidden")); }
async function showOperations() {
  const ops = await api("/operations");
  const board = $("#ops-board");
  board.replaceChildren();
  const cols = {};
  for (const s of [...OP_STATES, "unknown"]) {
    const c = el("div", "column");
    c.dataset.state = s;
    c.append(el("h3", null, t("op-state-" + s)));
    cols[s] = c;
  }
  for (const o of ops) {
    const card = el("div", "op-card");
    card.dataset.id = o.id;
    card.append(el("div", "op-id", o.id), el("div", "op-obj", o.objective ?? t("op-hidden")), el("div", "op-owner", o.owner_org + " · " + t("op-view-" + o.view)));
    card.title = o.objective ?? "";
    card.addEventListener("click", () => operationDetail(o.id));
    (cols[o.state] || cols.unknown).append(card);
  }
  for (const s of OP_STATES) board.append(cols[s]);
  if (cols.unknown.children.length > 1) board.append(cols.unknown);
  if (!ops.length) board.append(el("p", null, t("operations-none")));
  document.body.dataset.opsReady = "1";
  if (selectedOp && ops.some((o) => o.id === selectedOp)) await operationDetail(selectedOp);
  else $("#operation-detail").replaceChildren();
}
async function operationDetail(id) {
  selectedOp = id;
  document.querySelectorAll(".op-card").forEach((c) => c.classList.toggle("selected", c.dataset.id === id));
  const o = await api("/operations/" + encodeURIComponent(id));
  const d = $("#operation-detail");
  d.replaceChildren();
  d.dataset.view = o.view;
  const h = el("h3", null, o.id);
  h.append(el("span", "op-state", o.state ? t("op-state-" + o.state) : t("op-hidden")), el("span", "op-view", t("op-view-" + o.view)));
  d.append(h);
  const grid = el("div", "op-grid");
  const left = el("div"), right = el("div");
  grid.append(left, right);
  d.append(grid);
  // Plan.
  const plan = el("table", "op-plan");
  const row = (k, v) => { const tr = document.createElement("tr"); tr.append(el("th", null, t(k)), td(v ?? hiddenFacet())); plan.append(tr); };
  row("op-objective", o.objective);
  row("op-owner", o.owner_org);
  row("op-commander", o.commander);
  row("op-schedule", o.start ? fmtTime(o.start) + " → " + fmtTime(o.end) : (o.view === "full" ? "—" : null));
  row("op-sites", o.sites ? (o.sites.map((s) => s.label + " (" + s.lat.toFixed(4) + ", " + s.lon.toFixed(4) + ", " + s.radius_m + " m)").join("; ") || "—") : null);
  row("op-leads", o.leads.join(", ") || "—");
  const pk = document.createElement("span");
  for (const p of o.packages) pk.append(button(p, () => openPackage(p)));
  row("op-packages", o.packages.length ? pk : "—");
  left.append(el("h4", null, t("op-plan")), plan);
  // Participants.
  left.append(el("h4", null, t("op-participants")));
  if (o.participants) {
    const tb = el("table", "op-participants");
    for (const p of o.participants) {
      const tr = document.createElement("tr");
      tr.append(td(p.user), td(p.org + " (" + p.nation + ")"), td(t("op-role-" + p.role)));
      tb.append(tr);
    }
    left.append(tb);
  } else left.append(hiddenFacet());
  // Tasks.
  left.append(el("h4", null, t("op-tasks")));
  if (o.tasks) {
    const tb = el("table", "op-tasks");
    for (const k of o.tasks) {
      const tr = document.createElement("tr");
      const state = k.done_by ? el("span", "task-done", "✓ " + k.done_by + " · " + fmtTime(k.done_time) + (k.note ? " — " + k.note : "")) : el("span", "task-open", t("op-task-open"));
      const act = document.createElement("td");
      if (!k.done_by && o.view === "full") act.append(button(t("op-do-task"), () => { const n = prompt(t("op-task-note")); if (n) opAction(o, { action: "task", name: k.name, note: n }); }));
      tr.append(td(codeText("task-", k.name)), td(k.mandatory ? t("op-mandatory") : t("op-optional")), td(t("op-role-" + k.done_by_role)), td(state), act);
      tb.append(tr);
    }
    left.append(tb);
  } else left.append(hiddenFacet());
  // Approvals.
  left.append(el("h4", null, t("op-approvals")));
  if (o.approvals) {
    const p = el("p", "op-approval-count", t("op-approvals-of", { n: o.approvals.length, of: o.approvals_required }));
    left.append(p);
    const tb = el("table", "op-approvals");
    for (const a of o.approvals) {
      const tr = document.createElement("tr");
      tr.append(td(a.user), td(a.org), td(fmtTime(a.time)), td(a.reason));
      tb.append(tr);
    }
    left.append(tb);
  } else left.append(hiddenFacet());
  // Outcome.
  left.append(el("h4", null, t("op-outcome")));
  if (o.outcome) {
    const p = el("p", "op-outcome");
    p.textContent = t("op-lab-" + o.outcome.laboratory) + " · " + t("op-arrests", { n: o.outcome.arrests }) +
      (o.outcome.seized.length ? " · " + o.outcome.seized.map((s) => s.cas + " " + s.quantity + " " + s.unit).join(", ") : "") +
      (o.outcome.notes ? " — " + o.outcome.notes : "");
    left.append(p);
  } else left.append(el("p", "hidden-facet", o.state === "closed" || o.view !== "full" ? t("op-hidden") : t("op-no-outcome")));
  // Actions: the server decides; a refusal quotes the rule it breaks.
  if (o.view === "full") {
    const acts = el("div", "op-actions");
    const ask = (key, body) => () => { const why = prompt(t(key)); if (why) opAction(o, { ...body(why) }); };
    if (o.state === "draft") acts.append(button(t("op-propose"), ask("op-why", (why) => ({ action: "propose", why }))));
    if (o.state === "proposed") acts.append(button(t("op-approve"), ask("op-reason", (reason) => ({ action: "approve", reason }))), button(t("op-withdraw"), ask("op-why", (why) => ({ action: "withdraw", why }))));
    if (o.state === "approved") acts.append(button(t("op-execute"), ask("op-why", (why) => ({ action: "execute", why }))));
    if (o.state === "executed") acts.append(button(t("op-close"), () => {
      const found = confirm(t("op-close-found"));
      const notes = prompt(t("op-close-notes")) || "";
      opAction(o, { action: "close", laboratory: found ? "confirmed" : "not_found", notes });
    }));
    if (["draft", "proposed", "approved"].includes(o.state)) acts.append(button(t("op-cancel"), ask("op-why", (why) => ({ action: "cancel", why }))));
    if (acts.children.length) left.append(acts);
  }
  // Map and timeline.
  right.append(el("h4", null, t("op-map")));
  const m = el("div");
  m.id = "op-map";
  right.append(m);
  if (opsMap) { opsMap.remove(); opsMap = null; }
  opsMap = L.map(m, { attributionControl: false }).setView([23.5, -102], 4);
  const world = await (await fetch("/assets/countries-50m.json")).json();
  L.geoJSON(feature(world, world.objects.countries), { style: (f) => ({ color: "#6b7c93", weight: f.id === "484" ? 1.5 : 0.6, fillColor: f.id === "484" ? "#f7f3e8" : "#e3e6ea", fillOpacity: 1 }), interactive: false }).addTo(opsMap);
  if (o.sites && o.sites.length) {
    const g = L.featureGroup(o.sites.map((s) => L.circle([s.lat, s.lon], { radius: s.radius_m, color: "#c2410c", weight: 2, fillOpacity: 0.3, className: "op-site" }).bindTooltip(s.label)));
    g.addTo(opsMap);
    for (const s of o.sites) L.circleMarker([s.lat, s.lon], { radius: 6, color: "#c2410c", weight: 2, fillOpacity: 0.9 }).addTo(opsMap);
    // Regional context (state outlines are not drawn; country outlines are): the site
    // ring is drawn to scale, its centre marked.
    opsMap.fitBounds(g.getBounds(), { maxZoom: 7, padding: [20, 20] });
  } else {
    right.append(el("p", "hidden-facet", o.sites ? "—" : t("op-hidden")));
  }
  right.append(el("h4", null, t("op-timeline")));
  const ul = el("ul", "timeline");
  for (const h of o.history) {
    const li = el("li");
    li.textContent = fmtTime(h.time) + " · " + t("op-state-" + h.to) + (h.actor ? " · " + h.actor : "") + (h.action ? " (" + t("op-action-" + h.action.replace("ops.", "").replaceAll(".", "-")) + ")" : "") + (h.why ? " — " + h.why : "");
    ul.append(li);
  }
  right.append(ul);
  d.dataset.ready = "1";
}
async function opAction(o, body) {
  try {
    await api("/operations/" + encodeURIComponent(o.id) + "/actions", { method: "POST", body: JSON.stringify({ version: o.version, ...body }) });
  } catch (e) { banner(e); }
  await showOperations();
}
async function openPackage(id) {
  // The package page needs the token, so it is fetched here and opened as a blob.
  const r = await fetch("/api/v1/packages/" + encodeURIComponent(id) + "/html", { headers: { Authorization: "Bearer " + token } });
  if (!r.ok) { banner(t("package-missing")); return; }
  const url = URL.createObjectURL(new Blob([await r.text()], { type: "text/html" }));
  window.open(url, "_blank");
}
async function createPackage(l) {
  try {
    const p = await api("/packages", { method: "POST", body: JSON.stringify({ leads: [l.id], lang, pap: "PAP:AMBER" }) });
    await openPackage(p.id);
  } catch (e) { banner(e); }
}

// ---- release: recipients chosen from the registry, with a preview of what goes ----
let orgsCache = null;
async function releaseDialog(l) {
  if (!orgsCache) orgsCache = await api("/orgs");
  const d = $("#release-dialog");
  const strict = ["RED", "AMBER+STRICT"].includes(l.marking.tlp);
  $("#rd-title").textContent = t("release-title", { id: l.id, tlp: l.marking.tlp });
  const prev = $("#rd-preview");
  prev.replaceChildren(el("p", null, t("release-preview", { rank: l.rank, score: fmtNum(l.score, 2), n: (l.evidence || []).length })),
    el("p", "raw-summary", leadSummary(l)), el("p", null, t("release-frozen")));
  // TLP:RED goes to named organisations only; below RED a whole nation may be named too.
  const choices = orgsCache.filter((o) => o.code !== me.org).map((o) => [o.code, o.code + " — " + o.name + " (" + o.nation + ")"]);
  if (l.marking.tlp !== "RED") {
    for (const n of [...new Set(orgsCache.map((o) => o.nation))].filter((n) => n !== me.host_nation).sort()) choices.push([n, t("release-nation", { nation: n })]);
  }
  const list = $("#rd-orgs");
  list.replaceChildren(...choices.map(([code, label]) => {
    const lab = document.createElement("label");
    const cb = document.createElement("input");
    cb.type = "checkbox"; cb.value = code;
    lab.append(cb, " ", label);
    return lab;
  }));
  $("#rd-strict").hidden = !strict;
  $("#rd-strict input").checked = false;
  $("#rd-msg").textContent = "";
  return new Promise((resolve) => {
    const done = (v) => { $("#rd-ok").onclick = null; $("#rd-cancel").onclick = null; d.close(); resolve(v); };
    $("#rd-ok").onclick = () => {
      const to = [...list.querySelectorAll("input:checked")].map((x) => x.value);
      if (!to.length) { $("#rd-msg").textContent = t("release-pick"); return; }
      if (strict && !$("#rd-strict input").checked) { $("#rd-msg").textContent = t("release-strict-needed", { tlp: l.marking.tlp }); return; }
      done(to);
    };
    $("#rd-cancel").onclick = () => done(null);
    d.showModal();
  });
}

// ---- audit ----
// The log is paged newest first by sequence number (`before`), with the server's filters; the
// detail pane shows everything an entry says (recipients, triage state and reason, what was
// read), and a host-nation auditor can have the whole chain recomputed.
const AUDIT_PAGE = 100;
const audit = { rows: [], done: false, selected: null, actions: new Set() };
function auditQuery(before) {
  const p = new URLSearchParams({ newest_first: "true", limit: String(AUDIT_PAGE) });
  const v = (id) => $(id).value.trim();
  if (v("#au-who")) p.set("who", v("#au-who"));
  if (v("#au-action")) p.set("action", v("#au-action"));
  if (v("#au-record")) p.set("record", v("#au-record"));
  if (v("#au-since")) p.set("since", v("#au-since") + "T00:00:00Z");
  if (before != null) p.set("before", String(before));
  return "/audit?" + p;
}
async function showAudit() {
  audit.rows = []; audit.done = false; audit.selected = null;
  await loadAuditPage();
}
async function loadAuditPage() {
  const last = audit.rows[audit.rows.length - 1];
  let page;
  try { page = await api(auditQuery(last ? last.seq : null)); } catch (e) { banner(e); return; }
  audit.rows.push(...page);
  audit.done = page.length < AUDIT_PAGE;
  for (const e of page) audit.actions.add(e.action);
  renderAudit();
}
// The detail's values are data (ids, reasons written by users): shown as such, never translated.
function detailPairs(e) {
  const d = e.detail && typeof e.detail === "object" ? e.detail : {};
  return Object.entries(d).map(([k, v]) => [k, v === null ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v)]);
}
function renderAudit() {
  const rows = $("#audit-rows");
  rows.replaceChildren();
  $("#au-actions").replaceChildren(...[...audit.actions].sort().map((a) => { const o = document.createElement("option"); o.value = a; return o; }));
  for (const e of audit.rows) {
    const tr = document.createElement("tr");
    tr.tabIndex = 0;
    tr.classList.toggle("selected", audit.selected === e.seq);
    const summary = detailPairs(e).slice(0, 3).map(([k, v]) => k + ": " + (v.length > 40 ? v.slice(0, 40) + "…" : v)).join(" · ");
    const recs = e.records || [];
    tr.append(td(String(e.seq)), timeCell(e.time), td(el("span", "raw", e.actor)), td(code("action-", e.action.replaceAll(".", "-"))),
      td(el("span", "raw", summary)), td(el("span", "raw", recs.slice(0, 5).join(", ") + (recs.length > 5 ? " …" : ""))));
    const open = () => { audit.selected = e.seq; renderAudit(); };
    tr.addEventListener("click", open);
    tr.addEventListener("keydown", (ev) => { if (ev.key === "Enter") open(); });
    rows.append(tr);
  }
  $("#audit-total").textContent = audit.rows.length === 0 ? t("audit-empty")
    : t(audit.done ? "audit-total-all" : "audit-total-more", { shown: audit.rows.length });
  $("#au-older").hidden = audit.done;
  document.body.dataset.auditRows = String(audit.rows.length);
  renderAuditDetail();
}
function renderAuditDetail() {
  const pane = $("#audit-detail");
  pane.replaceChildren();
  const e = audit.rows.find((r) => r.seq === audit.selected);
  if (!e) return;
  const h = el("h3", null, "#" + e.seq + " · ");
  h.append(code("action-", e.action.replaceAll(".", "-")));
  pane.append(h);
  const dl = document.createElement("dl");
  const add = (label, value) => { dl.append(el("dt", null, label), el("dd", "raw", value)); };
  add(t("col-time"), fmtTime(e.time) + " (" + e.time + ")");
  add(t("col-actor"), e.actor);
  if (e.from) add(t("audit-from"), e.from);
  for (const [k, v] of detailPairs(e)) { dl.append(el("dt", null, "")); dl.lastChild.append(code("detail-", k.replaceAll("_", "-"))); dl.append(el("dd", "raw", v)); }
  if ((e.records || []).length) add(t("col-records"), e.records.join(", "));
  add(t("audit-leaf"), e.leaf_hash);
  pane.append(dl);
}
async function verifyAudit() {
  const out = $("#audit-verify-result");
  try {
    const r = await api("/audit/verify");
    out.textContent = r.ok ? t("audit-verify-ok", { entries: r.entries, heads: r.heads_checked, root: r.root_hash.slice(0, 16) })
      : t("audit-verify-bad", { entry: r.first_bad_entry == null ? "?" : r.first_bad_entry, problem: r.problems[0] || "" });
    out.className = r.ok ? "ok" : "error-banner";
    document.body.dataset.auditVerified = String(r.ok);
  } catch (e) { banner(e); }
}
function exportAuditCsv() {
  const lines = ["# " + t("audit-export-note", { query: auditQuery(null) }), ["seq", "time_utc", "actor", "action", "from", "records", "detail", "leaf_hash"].join(",")];
  for (const e of audit.rows) lines.push([e.seq, e.time, e.actor, e.action, e.from, (e.records || []).join(";"), JSON.stringify(e.detail), e.leaf_hash].map(csvField).join(","));
  downloadCsv(lines, "rastro-audit.csv");
}

// ---- entities and links ----
let graph = null;
const NODE_COLOURS = { ENT: "#7c3aed", party: "#a78bfa", consignment: "#2563eb", place: "#16a34a", vehicle: "#0891b2", phone: "#ea580c", address: "#ca8a04" };
function nodeKind(id) { return id.startsWith("ENT-") ? "ENT" : id.split(":")[0]; }
function nodeLabel(id) { return id.startsWith("ENT-") ? id : id.slice(id.indexOf(":") + 1); }
async function openEntity(id) {
  location.hash = "#/entity/" + encodeURIComponent(id);
}
async function showEntities() {
  const id = $("#entity-id").value.trim();
  const msg = $("#entity-message");
  const detail = $("#entity-detail");
  detail.replaceChildren();
  if (graph) { graph.destroy(); graph = null; }
  document.body.dataset.graphNodes = "0";
  if (!id) { msg.textContent = t("entity-hint"); return; }
  let e, links;
  try {
    e = await api("/entities/" + encodeURIComponent(id));
    links = await api("/links/" + encodeURIComponent(e.id) + "?hops=" + $("#entity-hops").value);
  } catch (err) {
    msg.textContent = t("entity-not-found", { id });
    return;
  }
  msg.textContent = t("entity-summary", { id: e.id, records: e.records.length, links: links.length });
  const h = el("h3", "", e.id);
  detail.append(h);
  const recs = document.createElement("table");
  for (const p of e.records) {
    const tr = document.createElement("tr");
    tr.append(td(p.id), td(p.name), td(p.originator), td(p.rfc || "—"), td(p.phone || "—"), td(p.address || "—"), td(tlp(p.marking)));
    recs.append(tr);
  }
  detail.append(el("h4", "", t("entity-records")), recs, el("h4", "", t("entity-links")));
  const lt = document.createElement("table");
  for (const l of links) {
    const tr = document.createElement("tr");
    tr.className = "link-row";
    tr.append(td(nodeLabel(l.from)), td(t("link-" + l.kind)), td(nodeLabel(l.to)), td(l.why), td(l.records.join(", ")));
    lt.append(tr);
  }
  detail.append(lt);
  const nodes = new Map();
  const edges = [];
  const add = (n) => { if (!nodes.has(n)) nodes.set(n, { data: { id: n, label: nodeLabel(n), kind: nodeKind(n) } }); };
  add(e.id);
  for (const [i, l] of links.entries()) {
    add(l.from); add(l.to);
    edges.push({ data: { id: "e" + i, source: l.from, target: l.to, label: t("link-" + l.kind) } });
  }
  graph = cytoscape({
    container: $("#entity-graph"),
    elements: [...nodes.values(), ...edges],
    style: [
      { selector: "node", style: { label: "data(label)", "font-size": 9, "background-color": (n) => NODE_COLOURS[n.data("kind")] || "#6b7280", width: 14, height: 14 } },
      { selector: "node[kind = 'ENT']", style: { width: 24, height: 24, "font-weight": "bold" } },
      { selector: "edge", style: { label: "data(label)", "font-size": 7, width: 1, "line-color": "#9ca3af", "curve-style": "bezier" } },
      { selector: ":selected", style: { "border-width": 3, "border-color": "#111827" } },
    ],
    layout: { name: "cose", animate: false, randomize: false },
  });
  graph.on("tap", "node", (ev) => { const n = ev.target.id(); if (n.startsWith("ENT-") && n !== e.id) openEntity(n); });
  document.body.dataset.graphNodes = String(nodes.size);
}

// ---- shell ----
// Hash routes give every view and item a URL: #/alerts, #/consignment/ID, #/lead/ID, #/entity/ID.
async function route() {
  if (!me) return;
  let v, id;
  try { [, v, id] = (location.hash || "#/map").split("/").map(decodeURIComponent); }
  catch { banner(t("bad-link", { link: location.hash.slice(0, 80) })); v = "map"; id = undefined; }
  if (v === "consignment" && id) { await show("consignments", true); await consignmentDetail(id); return; }
  if (v === "entity" && id) { $("#entity-id").value = id; await show("entities", true); return; }
  if (v === "operation" && id) { selectedOp = id; await show("operations", true); return; }
  if (v === "lead" && id) {
    await show("leads", true);
    try { leadDetail(await api("/leads/" + encodeURIComponent(id))); } catch (e) { banner(e); }
    return;
  }
  await show(VIEWS.includes(v) ? v : "map", true);
}
const VIEWS = ["map", "consignments", "alerts", "leads", "entities", "operations", "audit"];
async function show(v, fromRoute) {
  view = v;
  if (!fromRoute && location.hash !== "#/" + v) history.replaceState(null, "", "#/" + v);
  document.querySelectorAll(".view").forEach((s) => { s.hidden = true; });
  document.querySelectorAll("#nav button").forEach((b) => b.classList.toggle("active", b.dataset.view === v));
  $("#" + v + "-view").hidden = false;
  try {
    if (v === "map") { await showMap(); map.invalidateSize(); }
    if (v === "alerts") await showAlerts();
    if (v === "consignments") await showConsignments();
    if (v === "leads") { await showLeads(); await showReleases(); await showForensics(); }
    if (v === "operations") await showOperations();
    if (v === "entities") await showEntities();
    if (v === "audit") await showAudit();
  } catch (e) { banner(e); }
}
async function login(tok) {
  token = tok.trim();
  try {
    me = await api("/me");
  } catch {
    me = null;
    $("#login-error").textContent = t("login-failed");
    return;
  }
  sessionStorage.setItem("rastro-token", token);
  $("#login").hidden = true;
  $("#nav").hidden = false;
  $("#logout").hidden = false;
  $("#who").textContent = me.user + " · " + me.org + " (" + me.nation + ")";
  $("#nav [data-view=audit]").hidden = !(me.role === "auditor" || me.role === "admin");
  route();
}
function logout() {
  token = null; me = null;
  sessionStorage.removeItem("rastro-token");
  if (map) { map.remove(); map = null; layerControl = null; legend = null; }
  // Nothing of one user's session carries into the next one's.
  fitPoints = null; userMoved = false; shownAlert = null; orgsCache = null;
  audit.rows = []; audit.selected = null; audit.actions.clear();
  delete document.body.dataset.mapReady;
  document.querySelectorAll(".view").forEach((s) => { s.hidden = true; });
  $("#login").hidden = false;
  $("#nav").hidden = true;
  $("#logout").hidden = true;
  $("#who").textContent = "";
}

$("#lang").value = lang;
$("#lang").addEventListener("change", (e) => {
  lang = e.target.value;
  localStorage.setItem("rastro-lang", lang);
  translatePage();
  $("#details").replaceChildren();
  if (me) route();
});
$("#login-form").addEventListener("submit", (e) => { e.preventDefault(); login($("#token").value); });
$("#logout").addEventListener("click", logout);
document.querySelectorAll("#nav button").forEach((b) => b.addEventListener("click", () => {
  if (location.hash === "#/" + b.dataset.view) route(); else location.hash = "#/" + b.dataset.view;
}));
$("#time").addEventListener("input", drawAlerts);
for (const id of ["#af-typology", "#af-state", "#af-location", "#af-min-score", "#af-text", "#af-hide-dismissed"]) $(id).addEventListener("input", renderAlerts);
$("#alert-filters").addEventListener("submit", (e) => e.preventDefault());
document.querySelectorAll("#alerts-view th[data-sort]").forEach((th) => {
  const go = () => { if (queue.sort === th.dataset.sort) queue.desc = !queue.desc; else { queue.sort = th.dataset.sort; queue.desc = th.dataset.sort === "score" || th.dataset.sort === "time"; } renderAlerts(); };
  th.addEventListener("click", go);
  th.addEventListener("keydown", (e) => { if (e.key === "Enter") go(); });
});
$("#af-all").addEventListener("change", (e) => document.querySelectorAll(".alert-pick").forEach((c) => { c.checked = e.target.checked; }));
$("#af-bulk-ack").addEventListener("click", () => {
  const ids = [...document.querySelectorAll(".alert-pick:checked")].map((c) => c.value);
  if (!ids.length) { notice(t("bulk-none")); return; }
  triage(ids, "acknowledged");
});
$("#af-export").addEventListener("click", () => exportAlertsCsv(filteredAlerts()));
$("#audit-filters").addEventListener("submit", (e) => { e.preventDefault(); showAudit(); });
$("#au-older").addEventListener("click", () => loadAuditPage());
$("#au-verify").addEventListener("click", () => verifyAudit());
$("#au-export").addEventListener("click", () => exportAuditCsv());
window.addEventListener("hashchange", route);
$("#status-filter").addEventListener("change", () => showConsignments());
$("#entity-form").addEventListener("submit", (e) => { e.preventDefault(); showEntities(); });
translatePage();
if (token) login(token);
