// testevents.js — a function's saved test events (GET/PUT
// /functions/{id}/test-events: the whole list is replaced on save).
import { get, put } from './api.js';

export async function loadEvents(id) {
  const r = await get(`/functions/${id}/test-events`);
  return (r && r.events) || [];
}
export async function saveEvents(id, events) {
  const r = await put(`/functions/${id}/test-events`, { events });
  return (r && r.events) || events;
}
// Adds or replaces the event called name; returns the new list.
export async function upsertEvent(id, name, payload) {
  const list = await loadEvents(id);
  const i = list.findIndex((e) => e.name === name);
  if (i >= 0) list[i] = { name, payload };
  else list.push({ name, payload });
  return saveEvents(id, list);
}
export const EVENT_NAME_MAX = 64;
export function checkEventName(n) {
  if (!n.trim()) return 'Give the event a name';
  if (n.length > EVENT_NAME_MAX) return `At most ${EVENT_NAME_MAX} characters`;
  return null;
}
