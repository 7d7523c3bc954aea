import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";

type AttrValue = string | number | boolean | null | undefined;
type Child = Node | string | null | undefined | false;

/**
 * Creates an element. Attribute values are set with setAttribute and string
 * children become text nodes, so user data is never parsed as HTML.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, AttrValue> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

/** A mounted screen: its root element, a heading to focus, and cleanup. */
export interface View {
  element: HTMLElement;
  dispose(): void;
}

const timeOnly = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dateAndTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "long" });

/** A <time> element in the reader's locale: time only for today, date and time otherwise. */
export function timeElement(ts: Timestamp | undefined): HTMLTimeElement | string {
  if (!ts) return "";
  const date = timestampDate(ts);
  const today = new Date().toDateString() === date.toDateString();
  const el = h("time", { datetime: date.toISOString(), title: full.format(date) });
  el.textContent = (today ? timeOnly : dateAndTime).format(date);
  return el;
}

/** Makes a form's controls unusable while `work` runs, and usable again after. */
export async function busy<T>(form: HTMLFormElement, work: () => Promise<T>): Promise<T> {
  const controls = [...form.elements].filter(
    (e): e is HTMLButtonElement | HTMLInputElement | HTMLTextAreaElement =>
      e instanceof HTMLButtonElement || e instanceof HTMLInputElement || e instanceof HTMLTextAreaElement,
  );
  form.setAttribute("aria-busy", "true");
  for (const c of controls) c.disabled = true;
  try {
    return await work();
  } finally {
    for (const c of controls) c.disabled = false;
    form.removeAttribute("aria-busy");
  }
}
