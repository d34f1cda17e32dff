// What every part of the page shares: the API, and making elements from text (never HTML).

export const $ = (id) => document.getElementById(id);

export class ApiError extends Error {}

export async function api(path, params = {}) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") url.searchParams.set(key, value);
  }
  const response = await fetch(url);
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch { /* not JSON */ }
    throw new ApiError(`${response.status} ${detail}`);
  }
  return response.json();
}

export function setStatus(text, isError = false) {
  const node = $("status");
  node.textContent = text;
  node.classList.toggle("error", isError);
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "innerHTML" || key === "outerHTML") throw new Error("el(): text only, never HTML");
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) node.append(child);  // a string becomes a text node
  return node;
}

// A tooltip's content as DOM nodes: ECharts would insert a string as HTML, and reasons and
// names are text that anyone with a token can record (issue 21). Each line is a text node.
export function tip(...lines) {
  const box = el("div", { class: "tip" });
  lines.forEach((line, i) => {
    if (i) box.append(el("br"));
    box.append(String(line));
  });
  return box;
}

// A table in a wrapper that scrolls sideways on a narrow screen.
export function scrolling(table) {
  return el("div", { class: "table-scroll" }, table);
}
