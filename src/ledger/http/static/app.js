// The web page: budgets, the 13 tables as published, the regenerated narrative with its
// figures, an audit timeline whose points show everything as of then, and a comparison of
// two points. Plain ES module on the application's own API; charts by Apache ECharts (served
// locally).
//
// Every text that comes from the ledger (reasons, names) is put into the page as text
// (textContent, text nodes), never as HTML: anyone with a token can record a reason (issue 21).
//
// The point shown and the comparison are in the address (query string), with the API's own
// parameter names, so that reloading or sharing the address shows the same thing:
//   /?department=长治市住房公积金管理中心&year=2024&as_of=95&effective=2024-06-30&table=3
//   /?department=…&year=2024&publication=年初预算
//   /?department=…&year=2024&from_publication=年初预算&to_as_of=95      (the comparison)
// Back and forward move between the points chosen.

import { $, api, el, scrolling, setStatus, tip } from "./js/dom.js";
import { chart, renderCharts, renderNarrative, renderSeries, resizeCharts } from "./js/explanation.js";
import { hideFinal, renderFinal } from "./js/final.js";

// The layouts a budget's tables can be shown in (its documents'); the 决算 has its own
// explanation (completion against the budget) and narrative.
const LAYOUTS = {
  "department-budget": "部门预算 (13张表)", "final-accounts": "部门决算 (9张表)",
  "budget-9-yuan": "部门预算 (9张表, 元)", "budget-9-yuan-unit": "单位预算 (9张表, 元)",
};
const FINAL_LAYOUTS = new Set(["final-accounts"]);

const POINT_KEYS = ["as_of", "publication", "effective"];
const DIFF_KEYS = ["from_as_of", "from_publication", "to_as_of", "to_publication"];

const state = {
  budgets: [],
  budget: null,        // {department, fiscal_year}
  detail: null,        // the budget now: its publications
  table: 3,            // table number shown
  layout: null,        // the layout shown (null: the budget's first)
  point: { as_of: null, publication: null, effective: null },  // all null: now
  diff: null,          // {from: {as_of|publication}, to: {...}} or null
  events: [],          // this budget's events (all pages of the feed)
  tables: [],
  seq: 0,              // the latest refresh; an older one that finishes late is dropped
  diffSeq: 0,          // the same for comparisons
  diffShown: null,     // the comparison on the page (its query string)
};

function budgetPath() {
  const b = state.budget;
  return `/api/budgets/${encodeURIComponent(b.department)}/${b.fiscal_year}`;
}

function pointParams() {
  const out = {};
  for (const key of POINT_KEYS) if (state.point[key] !== null) out[key] = state.point[key];
  return out;
}

function isNow() {
  return POINT_KEYS.every((key) => state.point[key] === null);
}

// ------------------------------------------------------------------ the address

const YEAR = /^\d{4}$/;
const POSITION = /^\d{1,18}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function readAddress() {
  const q = new URLSearchParams(window.location.search);
  const position = (key) => (POSITION.test(q.get(key) || "") ? q.get(key) : null);
  const text = (key) => (q.get(key) ? q.get(key) : null);
  const side = (prefix) => {
    const as_of = position(`${prefix}_as_of`);
    const publication = text(`${prefix}_publication`);
    return as_of !== null ? { as_of } : publication !== null ? { publication } : null;
  };
  const from = side("from");
  const to = side("to");
  return {
    department: q.get("department"),
    year: YEAR.test(q.get("year") || "") ? Number(q.get("year")) : null,
    table: /^\d{1,2}$/.test(q.get("table") || "") ? Number(q.get("table")) : null,
    layout: /^[a-z0-9-]{1,64}$/.test(q.get("layout") || "") ? q.get("layout") : null,
    point: {
      as_of: position("as_of"),
      publication: text("publication"),
      effective: DATE.test(q.get("effective") || "") ? q.get("effective") : null,
    },
    diff: from && to ? { from, to } : null,
  };
}

function address() {
  const q = new URLSearchParams();
  if (state.budget) {
    q.set("department", state.budget.department);
    q.set("year", String(state.budget.fiscal_year));
  }
  for (const [key, value] of Object.entries(pointParams())) q.set(key, value);
  if (state.layout && state.detail && state.layout !== state.detail.layouts[0]) q.set("layout", state.layout);
  if (state.table !== 3) q.set("table", String(state.table));
  if (state.diff) {
    for (const [prefix, side] of [["from", state.diff.from], ["to", state.diff.to]]) {
      for (const [key, value] of Object.entries(side)) q.set(`${prefix}_${key}`, value);
    }
  }
  return `${window.location.pathname}?${q}`;
}

// A choice of the user is a new entry in the history (back returns to the point before);
// `replace` for what is not worth a step back (a table tab).
function remember(replace = false) {
  const next = address();
  if (next === window.location.pathname + window.location.search) return;
  if (replace) window.history.replaceState(null, "", next);
  else window.history.pushState(null, "", next);
}

// ------------------------------------------------------------------ budgets

async function loadBudgets() {
  const budgets = await api("/api/budgets");
  state.budgets = budgets;
  const select = $("budget");
  select.replaceChildren(...budgets.map((b, i) =>
    el("option", { value: String(i), textContent: `${b.department} ${b.fiscal_year}年` })));
  if (!budgets.length) {
    setStatus("账本中还没有预算: 请先导入部门预算公开文件 (ledger import 或 POST /api/documents).");
    return;
  }
  select.onchange = async () => {
    state.point = { as_of: null, publication: null, effective: null };
    state.diff = null;
    await openBudget(budgets[Number(select.value)]);
    remember();
  };
  await followAddress();
  remember(true);
}

// Show what the address names (on load, and on back / forward).
async function followAddress() {
  const wanted = readAddress();
  const budget = state.budgets.find((b) => b.department === wanted.department && b.fiscal_year === wanted.year)
    || state.budgets[0];
  state.point = wanted.point;
  state.diff = wanted.diff;
  if (wanted.table !== null) state.table = wanted.table;
  state.layout = wanted.layout;
  $("budget").value = String(state.budgets.indexOf(budget));
  if (budget !== state.budget) await openBudget(budget);
  else await refresh();
  if (diffKey(state.diff) !== state.diffShown) await showDiff();
}

async function openBudget(budget) {
  state.budget = budget;
  const [detail] = await Promise.all([api(budgetPath()), loadEvents()]);
  state.detail = detail;
  if (!detail.layouts.includes(state.layout)) state.layout = detail.layouts[0];
  renderLayouts();
  renderPickers();
  await refresh();
}

function renderLayouts() {
  $("layout").replaceChildren(...state.detail.layouts.map((id) =>
    el("option", { value: id, textContent: LAYOUTS[id] || id })));
  $("layout").value = state.layout;
}

function layoutParams() {
  return state.layout && state.layout !== "department-budget" ? { layout: state.layout } : {};
}

// ------------------------------------------------------------------ pickers of the point

function renderPickers() {
  const publications = state.detail ? state.detail.publications : [];
  $("publication").replaceChildren(
    el("option", { value: "", textContent: "— 不按发布节点 —" }),
    ...publications.map((p) => el("option", {
      value: p.name, textContent: `${p.name} (位置 ${p.position}${p.effective ? ` · 生效 ${p.effective}` : ""})`,
    })));
  const year = state.budget.fiscal_year;
  $("effective").min = `${year}-01-01`;
  $("effective").max = `${year}-12-31`;
  renderDiffPickers();
}

function showPickers() {
  const known = [...$("publication").options].some((o) => o.value === (state.point.publication ?? ""));
  if (state.point.publication !== null && !known) {
    // A name from the address that this budget does not have: show it, the API says why.
    $("publication").append(el("option", { value: state.point.publication, textContent: state.point.publication }));
  }
  $("publication").value = state.point.publication ?? "";
  $("effective").value = state.point.effective ?? "";
}

async function choose(point) {
  state.point = { ...state.point, ...point };
  remember();
  await refresh();
}

// ------------------------------------------------------------------ timeline

async function loadEvents() {
  const events = [];
  let after = 0;
  for (let page = 0; page < 50 && after !== null; page += 1) {
    const data = await api(`${budgetPath()}/events`, { after, limit: 1000 });
    events.push(...data.items);
    after = data.next_after;
  }
  state.events = events;
  const slider = $("timeline-slider");
  const positions = events.map((e) => e.position);
  slider.min = positions.length ? Math.min(...positions) : 1;
  slider.max = positions.length ? Math.max(...positions) : 1;
  slider.value = slider.max;
  renderEventRows();
}

function lastPosition() {
  return state.events.length ? state.events[state.events.length - 1].position : null;
}

function eventAt(position) {
  let found = null;
  for (const e of state.events) if (e.position <= position) found = e;
  return found;
}

// An import is one point of the timeline (its events were saved at once): the document whose
// import spans a position, and the point that shows a position (inside an import: its last).
function importOf(position) {
  const documents = state.detail ? state.detail.documents : [];
  return documents.find((d) => d.first_position !== null && d.first_position !== undefined
    && d.first_position <= position && position <= d.last_position) || null;
}

function snapped(position) {
  const e = eventAt(position);
  return e && e.point !== null && e.point !== undefined && e.point > position ? e.point : position;
}

function isPoint(e) {
  return e.point === null || e.point === undefined || e.point === e.position;
}

function publicationNamed(name) {
  return (state.detail ? state.detail.publications : []).find((p) => p.name === name) || null;
}

// The position up to which the point counts events (for the timeline's marker).
function selectedPosition() {
  if (state.point.as_of !== null) return Number(state.point.as_of);
  const published = state.point.publication !== null ? publicationNamed(state.point.publication) : null;
  if (published) return published.position;
  return lastPosition() ?? 0;
}

function describePoint() {
  const last = lastPosition();
  if (isNow()) return last !== null ? `最新 (位置 ${last})` : "最新";
  const parts = [];
  if (state.point.publication !== null) {
    const p = publicationNamed(state.point.publication);
    parts.push(`发布节点 ${state.point.publication}${p ? ` (位置 ${p.position})` : ""}`);
  }
  const imported = state.point.as_of !== null ? importOf(Number(state.point.as_of)) : null;
  if (imported) {
    parts.push(`位置 ${state.point.as_of} · 导入《${imported.name}》之后 (位置 ${imported.first_position}–${imported.last_position})`);
  } else if (state.point.as_of !== null) {
    const e = eventAt(Number(state.point.as_of));
    parts.push(e ? `位置 ${e.position} · ${e.kind_label}${e.effective ? ` · 生效 ${e.effective}` : ""}${e.reason ? ` · ${e.reason}` : ""}`
      : `位置 ${state.point.as_of}`);
  }
  if (state.point.effective !== null) parts.push(`截至 ${state.point.effective} 生效`);
  return parts.join("；");
}

function timelineLabel(e) {
  return importOf(e.position) ? "文件导入" : e.kind_label;
}

function renderTimeline() {
  // One point per event outside imports, one per import (at its last position).
  const points = state.events.filter(isPoint);
  const kinds = [...new Set(points.map(timelineLabel))];
  const selected = selectedPosition();
  chart("timeline-chart").setOption({
    animation: false,
    grid: { left: 96, right: 24, top: 16, bottom: 36 },
    tooltip: {
      trigger: "item",
      formatter: (p) => {
        const e = p.data.event;
        const d = importOf(e.position);
        if (d) return tip(`位置 ${d.first_position}–${d.last_position} · 一个时点`, `导入《${d.name}》`,
          `生效 ${e.effective ?? "—"}`, `${d.last_position - d.first_position + 1} 个事件`);
        return tip(`位置 ${e.position} · 版本 ${e.version}`, e.kind_label, `生效 ${e.effective ?? "—"}`,
          `记录人 ${e.actor ?? "—"}`, e.reason || "");
      },
    },
    xAxis: { type: "value", name: "位置", nameLocation: "end", minInterval: 1, scale: true },
    yAxis: { type: "category", data: kinds },
    dataZoom: [{ type: "inside" }],
    series: [{
      type: "scatter",
      symbolSize: 11,
      data: points.map((e) => ({
        value: [e.position, timelineLabel(e)],
        event: e,
        itemStyle: { color: e.position <= selected ? "#b03a2e" : "#c9c9c9" },
      })),
      markLine: {
        symbol: "none",
        label: { formatter: "查看时点" },
        lineStyle: { color: "#1f4e79", type: "solid", width: 2 },
        data: [{ xAxis: selected }],
      },
    }],
  }, true);
  const c = chart("timeline-chart");
  c.off("click");
  c.on("click", (p) => { if (p.data && p.data.event) pick(p.data.event.position); });
  $("timeline-slider").value = selected;
  $("timeline-output").textContent = describePoint();
}

function renderEventRows() {
  $("event-rows").replaceChildren(...state.events.map((e) => el("tr", { "data-position": String(e.position) },
    el("td", { class: "num" }, String(e.position)),
    el("td", { class: "num" }, String(e.version)),
    el("td", {}, e.kind_label),
    el("td", {}, e.effective ?? ""),
    el("td", {}, e.recorded_at.replace("T", " ").slice(0, 19)),
    el("td", {}, e.reason || ""),
    el("td", {}, e.document_no || ""),
    el("td", { class: "actor" }, e.actor ?? ""),
    // An event inside an import is seen at the import's end: the import is one point.
    el("td", {}, el("button", { type: "button", textContent: isPoint(e) ? "查看此时" : "查看导入后",
                                onclick: () => pick(isPoint(e) ? e.position : e.point) })),
  )));
}

async function pick(position) {
  // A position on the timeline replaces a publication (both would name a point in the log).
  await choose({ as_of: position === lastPosition() ? null : String(position), publication: null });
}

// ------------------------------------------------------------------ tables

function isAmount(text) {
  return /^-?[\d,]+\.\d{2}$/.test(text);
}

function headerRows(table) {
  // The printed header: each cell with its spans, as the table's definition lays it out
  // (a cell continued from the left or from above is part of a merged cell, not a cell of its own).
  const rows = table.header.map(() => []);
  for (const cell of table.header_cells) {
    rows[cell.row].push(el("th", { textContent: cell.text, colSpan: cell.colspan, rowSpan: cell.rowspan }));
  }
  return rows.map((cells) => el("tr", {}, ...cells));
}

function renderTable(table) {
  const width = Math.max(...table.header_cells.map((c) => c.column + c.colspan), ...table.rows.map((r) => r.cells.length), 1);
  const body = table.rows.map((row) => {
    const byCell = new Map(row.amounts.filter((a) => a.cell !== null).map((a) => [a.cell, a]));
    const cells = [];
    for (let i = 0; i < width; i += 1) {
      const text = row.cells[i] ?? "";
      const amount = byCell.get(i);
      const td = el("td", { textContent: text, class: amount || isAmount(text) ? "amount" : "label" });
      if (amount && text) {
        td.dataset.row = amount.row;
        td.dataset.column = amount.column;
        td.title = `${amount.yuan} 元 · 点击查看来历`;
        td.tabIndex = 0;
        td.onclick = () => showLineage(table, amount);
      }
      cells.push(td);
    }
    return el("tr", {}, ...cells);
  });
  if (table.empty) body.push(el("tr", {}, el("td", { colSpan: width, class: "empty-note", textContent: "注：本表无数据" })));
  const grid = el("table", { class: "published", "data-table": String(table.number) },
    el("thead", {}, ...headerRows(table)),
    el("tbody", {}, ...body));
  return el("div", { class: "sheet" },
    el("p", { class: "sheet-no", textContent: FINAL_LAYOUTS.has(state.layout) ? table.name : `预算公开表${table.number}` }),
    el("h3", { textContent: table.title }),
    el("p", { class: "sheet-meta" }, el("span", { textContent: `部门名称：${state.budget.department}` }),
      el("span", { textContent: `单位：${state.unit || "万元"}` })),
    scrolling(grid));
}

function renderTabs() {
  $("table-tabs").replaceChildren(...state.tables.map((t) => el("button", {
    type: "button", textContent: t.name, title: t.title, "data-number": String(t.number),
    class: t.number === state.table ? "active" : "",
    onclick: () => { state.table = t.number; renderTabs(); showTable(); remember(true); },
  })));
}

function showTable() {
  const table = state.tables.find((t) => t.number === state.table) || state.tables[0];
  if (!table) return;
  $("table-view").replaceChildren(renderTable(table));
  const params = new URLSearchParams({ ...pointParams(), ...layoutParams() });
  const base = `${budgetPath()}/tables`;
  params.set("format", "csv");
  $("download-csv").href = `${base}/${table.number}?${params}`;
  params.set("format", "xlsx");
  $("download-xlsx").href = `${base}/${table.number}?${params}`;
  $("download-all-xlsx").href = `${base}?${params}`;
}

function closeButton() {
  return el("form", { method: "dialog" }, el("button", { textContent: "关闭" }));
}

async function showLineage(table, amount) {
  const dialog = $("lineage") || document.body.appendChild(el("dialog", { id: "lineage" }));
  dialog.replaceChildren(el("p", { textContent: "正在读取…" }));
  if (!dialog.open) dialog.showModal();
  try {
    const data = await api(`${budgetPath()}/tables/${table.number}/lineage`,
      { row: amount.row, column: amount.column, ...pointParams() });
    const rows = data.contributions.map((c) => el("tr", {},
      el("td", { class: "num", textContent: String(c.position) }),
      el("td", { textContent: state.events.find((e) => e.position === c.position)?.kind_label ?? c.kind }),
      el("td", { textContent: c.effective ?? "" }),
      el("td", { class: "amount", textContent: c.amount.wan }),
      el("td", { class: "amount", textContent: c.amount.yuan }),
      el("td", { textContent: c.reason }),
      el("td", { textContent: c.provenance && c.provenance.line ? `${c.provenance.table ?? ""} 第${c.provenance.line}行` : "" }),
      el("td", { class: "actor", textContent: c.actor ?? "" }),
    ));
    dialog.replaceChildren(
      el("h3", { textContent: `${data.table_name} ${data.row_label} · ${data.column_label}` }),
      el("p", { textContent: `${data.amount.wan} 万元 (${data.amount.yuan} 元), 由以下事件构成, 合计 ${data.total.yuan} 元:` }),
      scrolling(el("table", { class: "events" },
        el("thead", {}, el("tr", {}, ...["位置", "类型", "生效日期", "万元", "元", "原因", "出处", "记录人"].map((h) => el("th", { textContent: h })))),
        el("tbody", {}, ...rows))),
      closeButton());
  } catch (error) {
    dialog.replaceChildren(el("p", { class: "error", textContent: `读取来历失败: ${error.message}` }), closeButton());
  }
}

// ------------------------------------------------------------------ comparison of two points

function sideValue(side) {
  return side.as_of !== undefined ? `as_of:${side.as_of}` : `publication:${side.publication}`;
}

function sideOf(value) {
  const at = value.indexOf(":");
  const kind = value.slice(0, at);
  return kind === "as_of" ? { as_of: value.slice(at + 1) } : { publication: value.slice(at + 1) };
}

function renderDiffPickers() {
  const publications = state.detail ? state.detail.publications : [];
  const options = () => [
    el("optgroup", { label: "发布节点" }, ...publications.map((p) =>
      el("option", { value: `publication:${p.name}`, textContent: `${p.name} (位置 ${p.position})` }))),
    // The points of the timeline only: an import is one point (its last position).
    el("optgroup", { label: "位置" }, ...state.events.filter(isPoint).reverse().map((e) => {
      const d = importOf(e.position);
      const what = d ? `导入《${d.name}》` : `${e.kind_label}${e.reason ? ` · ${e.reason}` : ""}`;
      return el("option", {
        value: `as_of:${e.position}`,
        textContent: `位置 ${e.position} · ${what}${e.position === lastPosition() ? " (最新)" : ""}`,
      });
    })),
  ];
  $("diff-from").replaceChildren(...options());
  $("diff-to").replaceChildren(...options());
  const points = state.events.filter(isPoint);
  const first = publications.length ? `publication:${publications[0].name}` : points.length ? `as_of:${points[0].position}` : "";
  $("diff-from").value = first;
  $("diff-to").value = lastPosition() !== null ? `as_of:${lastPosition()}` : "";
  $("diff-result").replaceChildren();
  state.diffShown = null;
  delete document.body.dataset.diff;
}

function showDiffPickers() {
  if (!state.diff) return;
  for (const [id, side] of [["diff-from", state.diff.from], ["diff-to", state.diff.to]]) {
    const value = sideValue(side);
    if (![...$(id).options].some((o) => o.value === value)) {
      $(id).append(el("option", { value, textContent: value.replace(/^as_of:/, "位置 ").replace(/^publication:/, "") }));
    }
    $(id).value = value;
  }
}

function diffKey(diff) {
  return diff ? new URLSearchParams(diffParams(diff)).toString() : null;
}

function diffParams(diff) {
  const out = {};
  for (const [prefix, side] of [["from", diff.from], ["to", diff.to]]) {
    for (const [key, value] of Object.entries(side)) out[`${prefix}_${key}`] = value;
  }
  return out;
}

// body[data-diff] is the comparison's query string once it is shown.
async function showDiff() {
  state.diffSeq += 1;
  const seq = state.diffSeq;
  const box = $("diff-result");
  delete document.body.dataset.diff;
  state.diffShown = diffKey(state.diff);
  if (!state.diff) { box.replaceChildren(); return; }
  showDiffPickers();
  box.replaceChildren(el("p", { textContent: "正在比较…" }));
  try {
    const data = await api(`${budgetPath()}/diff`, diffParams(state.diff));
    if (seq !== state.diffSeq) return;
    const rows = data.changes.map((c) => el("tr", { "data-table": String(c.table), "data-row": c.row, "data-column": c.column },
      el("td", { textContent: c.table_name }),
      el("td", { textContent: c.row_label }),
      el("td", { textContent: c.column_label }),
      el("td", { class: "amount", textContent: c.before.wan, title: `${c.before.yuan} 元` }),
      el("td", { class: "amount", textContent: c.after.wan, title: `${c.after.yuan} 元` }),
      el("td", { class: "amount delta", textContent: c.delta.wan, title: `${c.delta.yuan} 元` }),
      el("td", { class: "events-cell" }, ...c.events.map((e) => el("div", { class: "diff-event", "data-position": String(e.position) },
        `位置 ${e.position} · ${state.events.find((x) => x.position === e.position)?.kind_label ?? e.kind}`
        + `${e.actor ? ` · 记录人 ${e.actor}` : ""}`
        + ` · ${e.amount.wan} 万元${e.effective ? ` · 生效 ${e.effective}` : ""}${e.reason ? ` · ${e.reason}` : ""}`))),
    ));
    box.replaceChildren(
      el("p", { class: "diff-summary", textContent: `${data.from_point} → ${data.to_point}: ${data.changes.length ? `${data.changes.length} 个格有变化` : "没有格变化"}` }),
      ...(data.changes.length ? [scrolling(el("table", { class: "events diff" },
        el("thead", {}, el("tr", {}, ...["表", "行", "列", "之前 (万元)", "之后 (万元)", "变化 (万元)", "造成变化的事件"]
          .map((h) => el("th", { textContent: h })))),
        el("tbody", {}, ...rows)))] : []));
    document.body.dataset.diff = state.diffShown;
  } catch (error) {
    if (seq === state.diffSeq) {
      box.replaceChildren(el("p", { class: "error", textContent: `比较失败: ${error.message}` }));
      document.body.dataset.diff = "error";
    }
  }
}

// ------------------------------------------------------------------ refresh

// body[data-point] says what is shown once it is: "now", or the point's query string
// (as_of=95, publication=年初预算, as_of=95&effective=2024-06-30).
function pointKey() {
  return isNow() ? "now" : new URLSearchParams(pointParams()).toString();
}

async function refresh() {
  if (!state.budget) return;
  state.seq += 1;
  const seq = state.seq;
  document.body.dataset.loading = "true";
  $("point-label").textContent = describePoint();
  $("back-to-now").hidden = isNow();
  showPickers();
  setStatus("正在读取…");
  try {
    const params = pointParams();
    const final = FINAL_LAYOUTS.has(state.layout);
    const suffix = final ? "/final" : "";
    const [tables, narrative, explanation, series] = await Promise.all([
      api(`${budgetPath()}/tables`, { ...params, ...layoutParams() }),
      api(`${budgetPath()}/narrative${suffix}`, params),
      api(`${budgetPath()}/explanation${suffix}`, params),
      final ? null : api(`/api/series/${encodeURIComponent(state.budget.department)}`, { figure: $("series-figure").value }),
    ]);
    if (seq !== state.seq) return;
    state.tables = tables.tables;
    state.unit = tables.unit;
    if (!state.tables.some((t) => t.number === state.table)) state.table = state.tables[0].number;
    renderTabs();
    showTable();
    renderNarrative(narrative);
    if (final) renderFinal(explanation);
    else { hideFinal(); renderCharts(explanation); renderSeries(series); }
    $("narrative-section").querySelector(".figures").hidden = final;
    renderTimeline();
    setStatus(`${state.budget.department} ${state.budget.fiscal_year}年 · ${tables.point}`);
    document.body.dataset.point = pointKey();
  } catch (error) {
    if (seq === state.seq) {
      setStatus(`读取失败: ${error.message}`, true);
      document.body.dataset.point = "error";
    }
  } finally {
    if (seq === state.seq) delete document.body.dataset.loading;
  }
}

function wire() {
  $("back-to-now").onclick = () => choose({ as_of: null, publication: null, effective: null });
  const slider = $("timeline-slider");
  slider.oninput = () => {
    const e = eventAt(Number(slider.value));
    const d = importOf(Number(slider.value));
    $("timeline-output").textContent = d ? `导入《${d.name}》 (位置 ${d.first_position}–${d.last_position}, 一个时点)`
      : e ? `位置 ${e.position} · ${e.kind_label}` : `位置 ${slider.value}`;
  };
  slider.onchange = () => pick(snapped(Number(slider.value)));
  $("layout").onchange = () => {
    state.layout = $("layout").value;
    remember();
    refresh();
  };
  $("publication").onchange = () => {
    const name = $("publication").value;
    // A publication replaces a position (both would name a point in the log).
    choose({ publication: name || null, as_of: null });
  };
  $("effective").onchange = () => {
    const value = $("effective").value;
    choose({ effective: DATE.test(value) ? value : null });
  };
  $("diff-run").onclick = () => {
    if (!$("diff-from").value || !$("diff-to").value) return;
    state.diff = { from: sideOf($("diff-from").value), to: sideOf($("diff-to").value) };
    remember();
    showDiff();
  };
  window.addEventListener("popstate", () => {
    followAddress().catch((error) => setStatus(`读取失败: ${error.message}`, true));
  });
  window.addEventListener("resize", resizeCharts);
}

wire();
$("series-figure").onchange = async () => {
  try {
    renderSeries(await api(`/api/series/${encodeURIComponent(state.budget.department)}`, { figure: $("series-figure").value }));
  } catch (error) {
    setStatus(`读取失败: ${error.message}`, true);
  }
};

loadBudgets().catch((error) => setStatus(`读取失败: ${error.message}`, true));
