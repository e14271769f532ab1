// The sandbox console's page: polls /api/overview and redraws what changed. Every text goes in
// through textContent (events and bodies are the user's own input), never as HTML.
"use strict";

const POLL_MS = 300;
const state = { version: -1, selected: null, pinned: false, faultTargets: {}, orders: [] };

function el(tag, attrs, ...children) {
  const node = tag.startsWith("svg:")
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "onclick") node.addEventListener("click", value);
    else if (value !== null && value !== undefined) node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const response = await fetch(path, options);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function replace(container, items, empty) {
  container.replaceChildren(...(items.length ? items : [el("li", { class: "empty" }, empty)]));
}

function renderOrders(orders) {
  state.orders = orders;
  if (!state.pinned && orders.length) state.selected = orders[0].id;
  replace(document.getElementById("orders"), orders.map((order) => el("li", {
    "data-order": order.id,
    class: order.id === state.selected ? "selected" : "",
    onclick: () => { state.selected = order.id; state.pinned = true; refresh(true); },
  }, el("span", {}, `order ${order.id}`), el("span", { class: `status ${order.status || ""}` }, order.status || "…"))),
  "No order yet: POST one to the API.");
}

function offset(time, start) {
  return `+${Math.round((time - start) * 1000)} ms`;
}

function entryDetail(entry) {
  const detail = entry.detail || {};
  if (entry.kind === "event" && detail.rules) {
    const rules = detail.rules.map((r) => `${r.rule} → ${r.targets.join(", ")}`);
    return el("small", {}, rules.length ? ` matched ${rules.join("; ")}` : " matched no rule");
  }
  if (entry.kind === "execution" && detail.states) {
    return el("div", { class: "states" }, detail.states.map((s) => `${s.name} (${s.type}${s.decision ? ", " + s.decision : ""})`).join(" → "));
  }
  if (entry.kind === "item" && detail.item) return el("small", {}, " " + JSON.stringify(detail.item));
  if (detail.error) return el("small", {}, ` ${detail.error}`);
  if (detail.ms !== undefined) return el("small", {}, ` ${detail.ms} ms`);
  return null;
}

function renderTimeline(view) {
  const title = document.getElementById("timeline-title");
  const list = document.getElementById("timeline");
  if (!view) { title.textContent = "Timeline"; list.replaceChildren(); return; }
  title.replaceChildren(`Order ${view.id} `, el("span", { class: `status ${view.status || ""}` }, view.status || "…"),
    ...(view.dropped ? [el("small", {}, ` (${view.dropped} oldest entries not kept)`)] : []));
  const start = view.timeline.length ? view.timeline[0].time : 0;
  list.replaceChildren(...view.timeline.map((entry) => el("li", {
    class: entry.ok === false ? "failed" : "", "data-kind": entry.kind,
  },
  el("span", { class: "at" }, offset(entry.time, start)),
  el("span", { class: `kind ${entry.kind}` }, entry.kind),
  el("span", { class: "title" }, entry.title, entryDetail(entry),
    el("details", {}, el("summary", {}, "details"), el("pre", {}, JSON.stringify(entry.detail, null, 2)))))));
}

function renderFaults(faults) {
  const badge = document.getElementById("faults-on");
  badge.hidden = !faults.length;
  badge.textContent = faults.length === 1 ? "1 fault on" : `${faults.length} faults on`;
  replace(document.getElementById("faults"), faults.map((fault) => el("li", { class: "fault", "data-fault": fault.id },
    `#${fault.id} ${fault.kind} ${fault.target}: failed ${fault.failures}, `,
    fault.attempts_left !== null ? `${fault.attempts_left} attempts left ` : `${fault.seconds_left} s left `,
    el("button", { onclick: () => api(`/api/faults/${fault.id}/clear`, {}).then(() => refresh(true)) }, "clear"))),
  "No fault on.");
}

function renderAlarms(alarms) {
  replace(document.getElementById("alarms"), alarms.map((alarm) => el("li", { class: "alarm", "data-alarm": alarm.name },
    `${alarm.name}`, el("small", {}, ` ${alarm.metric} = ${alarm.value} > ${alarm.threshold}`))), "None.");
}

function renderDeadLetters(queues) {
  replace(document.getElementById("dlq"), queues.map((queue) => el("li", { "data-queue": queue.label },
    el("span", { class: `count ${queue.count ? "full" : ""}` }, String(queue.count)), ` ${queue.label} `,
    queue.count ? el("button", {
      class: "redrive",
      onclick: () => api(`/api/dead-letters/${encodeURIComponent(queue.queue)}/redrive`, {}).then(() => refresh(true)),
    }, "Redrive") : null,
    el("ul", { class: "messages" }, ...queue.messages.map((m) => el("li", {},
      `order ${m.order ?? "?"} ${m.detail_type ?? ""} for ${String(m.target).split(":").pop()}: ${m.error}`))))),
  "No dead-letter queue.");
}

function edgePath(a, b) {
  const y1 = a.y + a.h / 2, y2 = b.y + b.h / 2;
  if (b.x > a.x) {  // forward: right side to left side
    const x1 = a.x + a.w, x2 = b.x, bend = Math.max(30, (x2 - x1) / 2);
    return { d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`, mx: (x1 + x2) / 2, my: (y1 + y2) / 2 };
  }
  if (b.x < a.x) {  // backward (a table's stream read by a function drawn to its left): left side to right side
    const x1 = a.x, x2 = b.x + b.w, bend = Math.max(30, (x1 - x2) / 2);
    return { d: `M${x1},${y1} C${x1 - bend},${y1} ${x2 + bend},${y2} ${x2},${y2}`, mx: (x1 + x2) / 2, my: (y1 + y2) / 2 };
  }
  const x = a.x, bulge = x - 28;  // same column: a loop on its left
  return { d: `M${x},${y1} C${bulge},${y1} ${bulge},${y2} ${x},${y2}`, mx: bulge + 10, my: (y1 + y2) / 2 };
}

function renderArchitecture(graph) {
  const W = 230, H = 34, GAP_X = 70, GAP_Y = 10, LEFT = 40;  // LEFT: room for a same-column loop
  const columns = {};
  const at = {};
  for (const node of graph.nodes) (columns[node.column] ||= []).push(node);
  let height = 0;
  for (const [column, nodes] of Object.entries(columns)) {
    nodes.forEach((node, row) => { at[node.id] = { x: LEFT + column * (W + GAP_X), y: 10 + row * (H + GAP_Y), w: W, h: H, node }; });
    height = Math.max(height, 20 + nodes.length * (H + GAP_Y));
  }
  const width = LEFT + 10 + (Math.max(...Object.keys(columns).map(Number)) + 1) * (W + GAP_X);
  const svg = el("svg:svg", { width, height, viewBox: `0 0 ${width} ${height}` });
  for (const edge of graph.edges) {
    const a = at[edge.from], b = at[edge.to];
    if (!a || !b) continue;
    const path = edgePath(a, b);
    const cls = ["edge", edge.dashed ? "dashed" : "", edge.failed ? "failing" : edge.count ? "busy" : ""].join(" ");
    svg.append(el("svg:path", { class: cls, d: path.d, "data-from": edge.from, "data-to": edge.to }));
    if (edge.count !== null && edge.count !== undefined) {
      const text = `${edge.count}${edge.failed ? ` (${edge.failed} failed)` : ""}`;
      svg.append(el("svg:text", { class: `edge-label ${edge.failed ? "failing" : ""}`, x: path.mx, y: path.my - 3, "text-anchor": "middle" }, text));
    }
  }
  for (const { x, y, node } of Object.values(at)) {
    const text = `${node.kind} ${node.label}`;
    const label = text.length > 38 ? text.slice(0, 37) + "…" : text;
    svg.append(el("svg:g", { class: `node ${node.kind}`, "data-node": node.id },
      el("svg:title", {}, `${node.kind} ${node.label}`),
      el("svg:rect", { x, y, width: W, height: H }),
      el("svg:text", { x: x + 6, y: y + 14 }, label),
      el("svg:text", { class: "count", x: x + 6, y: y + 27 }, node.count || "")));
  }
  document.getElementById("architecture").replaceChildren(svg);
}

function fillFaultTargets() {
  const kind = document.getElementById("fault-kind").value;
  const target = document.getElementById("fault-target");
  target.replaceChildren(...(state.faultTargets[kind] || []).map((name) => el("option", { value: name }, name)));
}

async function setupFaults() {
  const info = await api("/api/faults");
  state.faultTargets = info.targets;
  document.getElementById("fault-kind").replaceChildren(...info.kinds.map((kind) => el("option", { value: kind }, kind)));
  document.getElementById("fault-kind").addEventListener("change", fillFaultTargets);
  fillFaultTargets();
  document.getElementById("fault-form").addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    const unit = document.getElementById("fault-unit").value;
    const fault = { kind: document.getElementById("fault-kind").value, target: document.getElementById("fault-target").value };
    fault[unit] = Number(document.getElementById("fault-amount").value);
    const error = document.getElementById("fault-error");
    try { await api("/api/faults", fault); error.textContent = ""; } catch (failure) { error.textContent = failure.message; }
    refresh(true);
  });
}

let busy = false;
let forceAfter = false;  // a forced refresh asked for while one was in flight (a click during a poll)
async function refresh(force) {
  if (busy) {
    forceAfter = forceAfter || Boolean(force);
    return;
  }
  busy = true;
  try {
    const overview = await api("/api/overview");
    document.getElementById("live").className = "on";
    document.getElementById("live").textContent = `live (version ${overview.version})`;
    renderFaults(overview.faults);  // every poll: a fault for a time counts down
    if (force || overview.version !== state.version) {
      state.version = overview.version;
      document.getElementById("stack").textContent = `· stack ${overview.stack}`;
      renderOrders(overview.orders);
      renderAlarms(overview.alarms);
      const [view, graph, queues] = await Promise.all([
        state.selected ? api(`/api/orders/${state.selected}`).catch(() => null) : null,
        api("/api/architecture"), api("/api/dead-letters"),
      ]);
      renderTimeline(view);
      renderArchitecture(graph);
      renderDeadLetters(queues);
    }
  } catch (failure) {
    document.getElementById("live").className = "";
    document.getElementById("live").textContent = `disconnected: ${failure.message}`;
  } finally {
    busy = false;
    if (forceAfter) {
      forceAfter = false;
      refresh(true);
    }
  }
}

setupFaults().then(() => refresh(true));
setInterval(refresh, POLL_MS);
