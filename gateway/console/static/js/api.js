// The gateway's API with the signed-in key. Errors carry the API's own sentence (`detail`).
import { session } from "./session.js";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export function keyHeaders(extra = {}) {
  const key = session.key();
  return key ? { "X-API-Key": key, ...extra } : { ...extra };
}

export async function api(path, { method = "GET", body, signal } = {}) {
  const headers = keyHeaders({ Accept: "application/json" });
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const answer = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
    cache: "no-store",
  });
  if (!answer.ok) {
    let detail;
    try {
      detail = await answer.json();
    } catch {
      detail = { detail: `HTTP ${answer.status}` };
    }
    if (answer.status === 401) session.refused();
    throw new ApiError(answer.status, detail);
  }
  return answer.json();
}

// Every item of a paged listing ({items, next}), following `next` up to `maxPages` pages.
export async function apiAll(path, params, { maxPages = 20, signal } = {}) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < maxPages; page += 1) {
    const query = new URLSearchParams(params);
    if (cursor) query.set("cursor", cursor);
    const answer = await api(`${path}?${query}`, { signal });
    items.push(...answer.items);
    cursor = answer.next;
    if (!cursor) break;
  }
  return items;
}
