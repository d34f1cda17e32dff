// The narrative (第三部分 情况说明) and its figures, drawn by Apache ECharts (served locally).

import { $, el, tip } from "./dom.js";

const charts = {};

export function chart(id) {
  if (!charts[id]) charts[id] = echarts.init($(id), null, { renderer: "canvas" });
  return charts[id];
}

export function resizeCharts() {
  Object.values(charts).forEach((c) => c.resize());
}

export function renderNarrative(narrative) {
  $("narrative").replaceChildren(...narrative.paragraphs.map((text) => {
    const heading = /^[一二三四五六七八九十]+、|^\([一二三四五六七八九十]+\)|^第[一二三四]部分/.test(text);
    const node = el(heading ? "h4" : "p");
    // Figures stand out: amounts in 万元 and percentages.
    const parts = text.split(/([\d,]+(?:\.\d+)?(?:万元|元|%))/);
    parts.forEach((part, i) => node.append(i % 2 ? el("mark", { textContent: part }) : part));
    return node;
  }));
}

export function renderCharts(explanation) {
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
  // Where last year's figures come from: last year's own events, or this year's document.
  const fromLedger = comparisons.some((c) => c.prior_source === "ledger");
  const disagree = comparisons.filter((c) => c.agrees === false);
  $("yoy-basis").textContent = !comparisons.length ? "" : fromLedger
    ? `上年数取自${explanation.prior_basis}` + (disagree.length
      ? `；${disagree.map((c) => `${c.label}: 本年文件所列 ${c.stated.wan}, 账本 ${c.prior.wan}`).join("；")} (不一致)` : "；与本年文件所列一致")
    : "上年数取自本年文件所列 (账本中没有上年预算)";
  $("yoy-basis").classList.toggle("warning", disagree.length > 0);
  chart("chart-yoy").setOption({
    animation: false,
    title: comparisons.length ? undefined : { text: "此时点尚未记录上年数", left: "center", top: "middle",
      textStyle: { color: "#888", fontSize: 13, fontWeight: "normal" } },
    tooltip: {
      trigger: "axis",
      formatter: (ps) => {
        const c = comparisons[ps[0].dataIndex];
        const change = c.percent === null ? "" : ` (${c.percent}%)`;
        const stated = c.agrees === false ? `本年文件所列上年数 ${c.stated.wan} 万元 (与账本不一致)` : "";
        return tip(c.label, `${c.prior_year}年 ${c.prior.wan} 万元`, `${explanation.fiscal_year}年 ${c.current.wan} 万元`,
          `${c.direction} ${c.delta.wan.replace("-", "")} 万元${change}`, ...(stated ? [stated] : []));
      },
    },
    legend: { bottom: 0 },
    grid: { left: 56, right: 16, top: 24, bottom: 72 },
    xAxis: { type: "category", data: comparisons.map((c) => c.label), axisLabel: { interval: 0, rotate: 20 } },
    yAxis: { type: "value", name: "万元" },
    series: [
      { name: fromLedger ? "上年预算 (账本)" : "上年预算", type: "bar", itemStyle: { color: "#9fb3c8" }, data: comparisons.map((c) => Number(c.prior.wan)) },
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

// A figure across the department's years and phases (/api/series): each publication, the
// latest state, the 决算 where there is one.
export function renderSeries(series) {
  const points = series.points.filter((p) => p.amount !== null);
  chart("chart-series").setOption({
    animation: false,
    title: points.length > 1 ? undefined : { text: "账本中只有这一个时点", left: "center", top: "middle",
      textStyle: { color: "#888", fontSize: 13, fontWeight: "normal" } },
    tooltip: { trigger: "axis", formatter: (ps) => {
      const p = points[ps[0].dataIndex];
      return tip(`${p.fiscal_year}年 ${p.phase}`, `${p.amount.wan} 万元`, ...(p.note ? [p.note] : []));
    } },
    grid: { left: 56, right: 16, top: 24, bottom: 64 },
    xAxis: { type: "category", data: points.map((p) => `${p.fiscal_year} ${p.phase}`), axisLabel: { interval: 0, rotate: 20 } },
    yAxis: { type: "value", name: "万元", scale: true },
    series: [{
      name: series.label, type: "line", symbolSize: 8, itemStyle: { color: "#1f4e79" },
      label: { show: true, position: "top", fontSize: 10, formatter: (p) => points[p.dataIndex].amount.wan },
      data: points.map((p) => Number(p.amount.wan)),
    }],
  }, true);
}
