// The web page: budgets, the 13 tables as published, the regenerated narrative with its
// figures, and an audit timeline whose points show everything as of then.
// Plain ES module on the application's own API; charts by Apache ECharts (served locally).

const state = {
  budget: null,        // {department, fiscal_year}
  table: 3,            // table number shown
  position: null,      // null: now; otherwise the notification position picked
  events: [],          // this budget's events (all pages of the feed)
  tables: [],
  charts: {},
};

const $ = (id) => document.getElementById(id);

class ApiError extends Error {}

async function api(path, params = {}) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined) url.searchParams.set(key, value);
  }
  const response = await fetch(url);
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch { /* not JSON */ }
    throw new ApiError(`${response.status} ${detail}`);
  }
  return response.json();
}

function budgetPath() {
  const b = state.budget;
  return `/api/budgets/${encodeURIComponent(b.department)}/${b.fiscal_year}`;
}

function pointParams() {
  return state.position === null ? {} : { as_of: state.position };
}

function setStatus(text, isError = false) {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("error", isError);
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

// A tooltip's content as DOM nodes: ECharts would insert a string as HTML, and reasons and
// names are text that anyone with a token can record (issue 21). Each line is a text node.
function tip(...lines) {
  const box = el("div", { class: "tip" });
  lines.forEach((line, i) => {
    if (i) box.append(el("br"));
    box.append(String(line));
  });
  return box;
}

function chart(id) {
  if (!state.charts[id]) state.charts[id] = echarts.init($(id), null, { renderer: "canvas" });
  return state.charts[id];
}

// ------------------------------------------------------------------ budgets

async function loadBudgets() {
  const budgets = await api("/api/budgets");
  const select = $("budget");
  select.replaceChildren(...budgets.map((b, i) =>
    el("option", { value: String(i), textContent: `${b.department} ${b.fiscal_year}年` })));
  if (!budgets.length) {
    setStatus("账本中还没有预算: 请先导入部门预算公开文件 (ledger import 或 POST /api/documents).");
    return;
  }
  select.onchange = () => chooseBudget(budgets[Number(select.value)]);
  await chooseBudget(budgets[0]);
}

async function chooseBudget(budget) {
  state.budget = budget;
  state.position = null;
  await loadEvents();
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

function eventAt(position) {
  let found = null;
  for (const e of state.events) if (e.position <= position) found = e;
  return found;
}

function describePoint() {
  const last = state.events.length ? state.events[state.events.length - 1] : null;
  if (state.position === null) return last ? `最新 (位置 ${last.position})` : "最新";
  const e = eventAt(state.position);
  if (!e) return `位置 ${state.position}`;
  return `位置 ${e.position} · ${e.kind_label}${e.effective ? ` · 生效 ${e.effective}` : ""}${e.reason ? ` · ${e.reason}` : ""}`;
}

function renderTimeline() {
  const kinds = [...new Set(state.events.map((e) => e.kind_label))];
  const selected = state.position ?? (state.events.length ? state.events[state.events.length - 1].position : 0);
  chart("timeline-chart").setOption({
    animation: false,
    grid: { left: 96, right: 24, top: 16, bottom: 36 },
    tooltip: {
      trigger: "item",
      formatter: (p) => {
        const e = p.data.event;
        return tip(`位置 ${e.position} · 版本 ${e.version}`, e.kind_label, `生效 ${e.effective ?? "—"}`, e.reason || "");
      },
    },
    xAxis: { type: "value", name: "位置", nameLocation: "end", minInterval: 1, scale: true },
    yAxis: { type: "category", data: kinds },
    dataZoom: [{ type: "inside" }],
    series: [{
      type: "scatter",
      symbolSize: 11,
      data: state.events.map((e) => ({
        value: [e.position, e.kind_label],
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
    el("td", {}, el("button", { type: "button", textContent: "查看此时", onclick: () => pick(e.position) })),
  )));
}

async function pick(position) {
  const last = state.events.length ? state.events[state.events.length - 1].position : null;
  state.position = position === last ? null : position;
  await refresh();
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
    el("p", { class: "sheet-no", textContent: `预算公开表${table.number}` }),
    el("h3", { textContent: table.title }),
    el("p", { class: "sheet-meta" }, el("span", { textContent: `部门名称：${state.budget.department}` }),
      el("span", { textContent: "单位：万元" })),
    grid);
}

function renderTabs() {
  $("table-tabs").replaceChildren(...state.tables.map((t) => el("button", {
    type: "button", textContent: t.name, title: t.title, "data-number": String(t.number),
    class: t.number === state.table ? "active" : "",
    onclick: () => { state.table = t.number; renderTabs(); showTable(); },
  })));
}

function showTable() {
  const table = state.tables.find((t) => t.number === state.table) || state.tables[0];
  if (!table) return;
  $("table-view").replaceChildren(renderTable(table));
  const params = new URLSearchParams({ ...pointParams() });
  const base = `${budgetPath()}/tables`;
  params.set("format", "csv");
  $("download-csv").href = `${base}/${table.number}?${params}`;
  params.set("format", "xlsx");
  $("download-xlsx").href = `${base}/${table.number}?${params}`;
  $("download-all-xlsx").href = `${base}?${params}`;
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
    ));
    dialog.replaceChildren(
      el("h3", { textContent: `${data.table_name} ${data.row_label} · ${data.column_label}` }),
      el("p", { textContent: `${data.amount.wan} 万元 (${data.amount.yuan} 元), 由以下事件构成, 合计 ${data.total.yuan} 元:` }),
      el("table", { class: "events" },
        el("thead", {}, el("tr", {}, ...["位置", "类型", "生效日期", "万元", "元", "原因", "出处"].map((h) => el("th", { textContent: h })))),
        el("tbody", {}, ...rows)),
      el("form", { method: "dialog" }, el("button", { textContent: "关闭" })));
  } catch (error) {
    dialog.replaceChildren(el("p", { class: "error", textContent: `读取来历失败: ${error.message}` }),
      el("form", { method: "dialog" }, el("button", { textContent: "关闭" })));
  }
}

// ------------------------------------------------------------------ narrative and charts

function renderNarrative(narrative) {
  $("narrative").replaceChildren(...narrative.paragraphs.map((text) => {
    const heading = /^[一二三四五六七八九十]+、|^\([一二三四五六七八九十]+\)|^第[一二三四]部分/.test(text);
    const node = el(heading ? "h4" : "p");
    // Figures stand out: amounts in 万元 and percentages.
    const parts = text.split(/([\d,]+(?:\.\d+)?(?:万元|元|%))/);
    parts.forEach((part, i) => node.append(i % 2 ? el("mark", { textContent: part }) : part));
    return node;
  }));
}

function renderCharts(explanation) {
  const classes = explanation.shares.filter((s) => s.group === "class" && s.amount.wan !== "0.00");
  chart("chart-class").setOption({
    animation: false,
    tooltip: { trigger: "item", formatter: (p) => tip(p.name, `${p.data.wan} 万元 (${p.data.percent}%)`) },
    title: classes.length ? undefined : { text: "此时点尚无一般公共预算支出", left: "center", top: "middle",
      textStyle: { color: "#888", fontSize: 13, fontWeight: "normal" } },
    series: [{
      type: "pie", radius: ["30%", "62%"], center: ["50%", "50%"],
      label: { formatter: (p) => `${p.name}\n${p.data.percent}%` },
      data: classes.map((s) => ({ name: s.label, value: Number(s.amount.wan), wan: s.amount.wan, percent: s.percent })),
    }],
  }, true);

  const three = explanation.three_public;
  chart("chart-three-public").setOption({
    animation: false,
    tooltip: { trigger: "axis", formatter: (ps) => tip(three[ps[0].dataIndex].label, `${three[ps[0].dataIndex].amount.wan} 万元`) },
    grid: { left: 48, right: 16, top: 24, bottom: 64 },
    xAxis: { type: "category", data: three.map((i) => i.label), axisLabel: { interval: 0, rotate: 20 } },
    yAxis: { type: "value", name: "万元" },
    series: [{
      type: "bar", barMaxWidth: 36, itemStyle: { color: "#b03a2e" },
      label: { show: true, position: "top", formatter: (p) => three[p.dataIndex].amount.wan },
      data: three.map((i) => Number(i.amount.wan)),
    }],
  }, true);

  const comparisons = explanation.comparisons.filter((c) => !c.key.includes(":"));
  chart("chart-yoy").setOption({
    animation: false,
    title: comparisons.length ? undefined : { text: "此时点尚未记录上年数", left: "center", top: "middle",
      textStyle: { color: "#888", fontSize: 13, fontWeight: "normal" } },
    tooltip: {
      trigger: "axis",
      formatter: (ps) => {
        const c = comparisons[ps[0].dataIndex];
        const change = c.percent === null ? "" : ` (${c.percent}%)`;
        return tip(c.label, `${c.prior_year}年 ${c.prior.wan} 万元`, `${explanation.fiscal_year}年 ${c.current.wan} 万元`,
          `${c.direction} ${c.delta.wan.replace("-", "")} 万元${change}`);
      },
    },
    legend: { bottom: 0 },
    grid: { left: 56, right: 16, top: 24, bottom: 72 },
    xAxis: { type: "category", data: comparisons.map((c) => c.label), axisLabel: { interval: 0, rotate: 20 } },
    yAxis: { type: "value", name: "万元" },
    series: [
      { name: "上年预算", type: "bar", itemStyle: { color: "#9fb3c8" }, data: comparisons.map((c) => Number(c.prior.wan)) },
      {
        name: "本年预算", type: "bar", itemStyle: { color: "#1f4e79" },
        label: {
          show: true, position: "top", fontSize: 10,
          formatter: (p) => {
            const c = comparisons[p.dataIndex];
            return c.direction === "持平" ? "持平" : `${c.direction === "增加" ? "+" : "−"}${c.percent ?? ""}%`;
          },
        },
        data: comparisons.map((c) => Number(c.current.wan)),
      },
    ],
  }, true);
}

// ------------------------------------------------------------------ refresh

async function refresh() {
  if (!state.budget) return;
  document.body.dataset.loading = "true";
  $("point-label").textContent = describePoint();
  $("back-to-now").hidden = state.position === null;
  setStatus("正在读取…");
  try {
    const params = pointParams();
    const [tables, narrative, explanation] = await Promise.all([
      api(`${budgetPath()}/tables`, params),
      api(`${budgetPath()}/narrative`, params),
      api(`${budgetPath()}/explanation`, params),
    ]);
    state.tables = tables.tables;
    renderTabs();
    showTable();
    renderNarrative(narrative);
    renderCharts(explanation);
    renderTimeline();
    setStatus(`${state.budget.department} ${state.budget.fiscal_year}年 · ${tables.point}`);
    document.body.dataset.point = state.position === null ? "now" : String(state.position);
  } catch (error) {
    setStatus(`读取失败: ${error.message}`, true);
  } finally {
    delete document.body.dataset.loading;
  }
}

function wire() {
  $("back-to-now").onclick = () => { state.position = null; refresh(); };
  const slider = $("timeline-slider");
  slider.oninput = () => {
    const e = eventAt(Number(slider.value));
    $("timeline-output").textContent = e ? `位置 ${e.position} · ${e.kind_label}` : `位置 ${slider.value}`;
  };
  slider.onchange = () => pick(Number(slider.value));
  window.addEventListener("resize", () => Object.values(state.charts).forEach((c) => c.resize()));
}

wire();
loadBudgets().catch((error) => setStatus(`读取失败: ${error.message}`, true));
