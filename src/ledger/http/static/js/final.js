// A budget's 决算 (final accounts): completion of its budget, item by item, and of 三公.
// The rates are the API's, computed from the events (GET …/explanation/final).

import { $, el, scrolling } from "./dom.js";

const SOURCE = { recorded: "账本中的年初预算", stated: "决算文件所列预算数" };

function rows(completions) {
  return completions.map((c) => el("tr", { "data-key": c.key },
    el("td", { textContent: c.label }),
    el("td", { class: "num", textContent: c.budget.wan, title: `${c.budget.yuan} 元` }),
    el("td", { class: "num", textContent: c.final.wan, title: `${c.final.yuan} 元` }),
    el("td", { class: "num", textContent: c.percent === null ? "—" : `${c.percent}%` }),
    el("td", { textContent: `决算数${c.difference}预算数` }),
    el("td", { textContent: SOURCE[c.source] || c.source })));
}

function table(caption, completions) {
  return scrolling(el("table", { class: "completion" },
    el("caption", { textContent: caption }),
    el("thead", {}, el("tr", {}, ...["项目", "年初预算 (万元)", "决算 (万元)", "完成率", "", "预算数来自"]
      .map((text) => el("th", { textContent: text })))),
    el("tbody", {}, ...rows(completions))));
}

export function renderFinal(explanation) {
  const section = $("final-section");
  section.hidden = false;
  const general = explanation.completions;
  const three = explanation.three_public.filter((c) => c.budget.yuan !== "0.00" || c.final.yuan !== "0.00");
  $("final-view").replaceChildren(
    table("一般公共预算财政拨款支出: 年初预算与决算", general),
    table("“三公”经费: 预算与决算", three));
}

export function hideFinal() {
  $("final-section").hidden = true;
  $("final-view").replaceChildren();
}
