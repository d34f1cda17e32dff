// The audit page: a file in, its findings listed and marked in the document's running text.
// Everything from the document and the findings is put in as text (never HTML).

import { $, el, setStatus } from "./dom.js";

const SEVERITIES = ["错误", "疑似", "提示"];
let report = null;
let file = null;

function shown() {
  const severities = new Set(SEVERITIES.filter((s) => $(`sev-${s}`).checked));
  const rule = $("rule-filter").value;
  return report.findings.filter((f) => severities.has(f.severity) && (!rule || f.rule === rule));
}

function placeText(place) {
  const parts = [];
  if (place.page != null) parts.push(`第${place.page}页` + (place.x != null ? ` (x=${Math.round(place.x)}, y=${Math.round(place.y)})` : ""));
  if (place.line != null) parts.push(`第${place.line}行`);
  for (const part of [place.table, place.row, place.column]) if (part) parts.push(part);
  return parts.join(" ") || "文件";
}

function render() {
  const findings = shown();
  const rows = $("finding-rows");
  rows.replaceChildren();
  findings.forEach((f) => {
    const index = report.findings.indexOf(f);
    const row = el("tr", { class: `severity-${f.severity}`, "data-rule": f.rule },
      el("td", {}, f.severity), el("td", { title: f.title }, f.rule), el("td", {}, placeText(f.place)),
      el("td", {}, f.message), el("td", {}, f.stated ?? ""), el("td", {}, f.expected ?? ""),
      el("td", {}, f.rounding === true ? "是" : f.rounding === false ? "否" : ""));
    if (f.place.span) {
      row.classList.add("jumps");
      row.addEventListener("click", () => {
        const mark = document.getElementById(`mark-${index}`);
        if (mark) { mark.scrollIntoView({ block: "center" }); mark.focus(); }
      });
    }
    rows.append(row);
  });
  renderText(findings);
  renderTables(findings);
  const counts = SEVERITIES.map((s) => `${s} ${report.counts[s] ?? 0}`).join("  ");
  $("audit-summary").textContent = `${report.document}: ${report.department ?? "部门不详"} ${report.fiscal_year ?? ""}年度, ` +
    `布局 ${report.layout ?? "不详"}; ${counts} (显示 ${findings.length} 处). ${report.notes.join(" ")}`;
}

// The running text cut at every marked span; each mark carries its finding's severity and rule.
function renderText(findings) {
  const box = $("audit-text");
  box.replaceChildren();
  const text = report.text || "";
  const marks = findings.filter((f) => f.place.span).map((f) => ({ f, start: f.place.span[0], end: f.place.span[1] }))
    .sort((a, b) => a.start - b.start);
  let at = 0;
  for (const { f, start, end } of marks) {
    if (start < at) continue;  // overlapping marks: the first one shows
    box.append(text.slice(at, start));
    const mark = el("mark", { class: `severity-${f.severity}`, id: `mark-${report.findings.indexOf(f)}`, tabIndex: -1,
      title: `${f.severity} ${f.rule}: ${f.message}`, "data-rule": f.rule }, text.slice(start, end));
    box.append(mark);
    at = end;
  }
  box.append(text.slice(at));
}

// Does a finding stand at this printed cell? By page and position in a PDF (the finding's
// point inside the cell's box), by line in the text layout (the cell holding the printed figure).
function at(f, cell) {
  const p = f.place;
  if (p.page != null && cell.page != null && cell.box) {
    if (p.page !== cell.page || p.x == null) return false;
    const [x0, top, x1, bottom] = cell.box;
    // a finding on a cell is placed at the cell's top-left corner; other points must fall inside
    const corner = Math.abs(p.x - x0) < 0.5 && Math.abs(p.y - top) < 0.5;
    return corner || (p.x > x0 + 0.5 && p.x < x1 - 0.5 && p.y > top + 0.5 && p.y < bottom - 0.5);
  }
  return p.line != null && cell.line === p.line && (p.x == null) && cell.text !== "" && (!f.stated || cell.text.replace(/,/g, "") === f.stated);
}

function renderTables(findings) {
  const box = $("audit-tables");
  box.replaceChildren();
  for (const table of report.tables || []) {
    const own = findings.filter((f) => f.place.table === table.table);
    const placed = new Set();
    const grid = el("table", { class: "printed" });
    for (const row of table.rows) {
      const tr = el("tr");
      for (const cell of row) {
        const here = own.filter((f) => at(f, cell));
        here.forEach((f) => placed.add(f));
        const td = el("td", {}, cell.text);
        if (here.length) {
          const worst = ["错误", "疑似", "提示"].find((s) => here.some((f) => f.severity === s));
          td.classList.add("marked", `severity-${worst}`);
          td.title = here.map((f) => `${f.severity} ${f.rule}: ${f.message}`).join("\n");
          td.dataset.rules = here.map((f) => f.rule).join(" ");
        }
        tr.append(td);
      }
      grid.append(tr);
    }
    const rest = own.filter((f) => !placed.has(f));
    const notes = el("ul", { class: "table-findings" },
      ...rest.map((f) => el("li", { class: `severity-${f.severity}` }, `${f.severity} ${f.rule}: ${f.message}`)));
    box.append(el("details", { class: "audit-table", "data-table": table.table, open: own.length > 0 },
      el("summary", {}, `${table.table} ${table.title}` + (own.length ? ` (${own.length} 处发现)` : "")), notes,
      el("div", { class: "table-scroll" }, grid)));
  }
  const missing = findings.filter((f) => f.rule === "table.missing");
  for (const f of missing) box.prepend(el("p", { class: `severity-${f.severity}` }, `${f.severity} ${f.rule}: ${f.message}`));
}

async function post(format) {
  const body = new FormData();
  body.append("file", file);
  const url = new URL("/api/audits", window.location.origin);
  url.searchParams.set("format", format);
  if (format === "json") url.searchParams.set("with_text", "true");
  const response = await fetch(url, { method: "POST", body });
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch { /* not JSON */ }
    throw new Error(`${response.status} ${detail}`);
  }
  return response;
}

async function run(event) {
  event.preventDefault();
  file = $("audit-file").files[0];
  if (!file) return;
  setStatus(`正在审校 ${file.name} …`);
  try {
    report = await (await post("json")).json();
  } catch (error) {
    setStatus(`审校失败: ${error.message}`, true);
    return;
  }
  const rules = [...new Set(report.findings.map((f) => f.rule))].sort();
  $("rule-filter").replaceChildren(el("option", { value: "" }, "全部规则"), ...rules.map((r) => el("option", { value: r }, r)));
  $("audit-result").hidden = false;
  setStatus(`审校完成: ${file.name}`);
  render();
}

async function download(format) {
  try {
    const blob = format === "json" ? new Blob([JSON.stringify(report, null, 2)], { type: "application/json" })
      : await (await post(format)).blob();
    const link = el("a", { href: URL.createObjectURL(blob), download: `${file.name}-audit.${format}` });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (error) {
    setStatus(`导出失败: ${error.message}`, true);
  }
}

const filter = $("severity-filter");
for (const s of SEVERITIES) {
  filter.append(el("label", {}, el("input", { type: "checkbox", id: `sev-${s}`, checked: true }), ` ${s}`));
}
filter.addEventListener("change", () => report && render());
$("rule-filter").addEventListener("change", () => report && render());
$("audit-form").addEventListener("submit", run);
document.querySelectorAll("[data-format]").forEach((button) => button.addEventListener("click", () => download(button.dataset.format)));
