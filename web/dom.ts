/** Small DOM helpers: build elements without innerHTML (nothing from the server is parsed as markup). */

type Attribute = string | number | boolean | undefined | null;
export type Child = Node | string | number | null | undefined | false;

/**
 * An element with attributes and children. `true` sets an empty attribute, `false`, `null` and
 * `undefined` leave it out; strings and numbers become text nodes.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, Attribute> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

/** Appends children, skipping empty ones. */
export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** The element with this id, of this type, or an error naming what is missing from the page. */
export function byId<T extends HTMLElement>(id: string, type: { new (): T }): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`The page has no ${type.name} #${id}.`);
  return element;
}

const bytesFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** Bytes for people: 512 B, 83.2 kB, 4.1 MB (powers of 1000, as file managers show them). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${bytesFormat.format(bytes / 1000)} kB`;
  return `${bytesFormat.format(bytes / 1_000_000)} MB`;
}

/** A `<dl>` of label/value rows; rows whose value is null or undefined are left out. */
export function definitionList(
  rows: readonly (readonly [string, Child])[],
  className?: string,
): HTMLDListElement {
  const list = h('dl', { class: className });
  for (const [term, value] of rows) {
    if (value === null || value === undefined) continue;
    list.append(h('dt', {}, term), h('dd', {}, value));
  }
  return list;
}
