/** Panels keep this many rows at most: a busy feed (1,000 events a minute) never grows the DOM. */
export const MAX_ROWS = 200;

/**
 * A list of rows, newest first, keyed so that a row can be updated in place (a streaming answer,
 * a task moving on); the oldest row leaves as one beyond the bound arrives.
 */
export class BoundedList<K> {
  private readonly rows = new Map<K, HTMLElement>();

  constructor(
    readonly element: HTMLElement,
    private readonly max = MAX_ROWS,
  ) {}

  get size(): number {
    return this.rows.size;
  }

  get(key: K): HTMLElement | undefined {
    return this.rows.get(key);
  }

  /** The row for `key`, made by `create` and put on top when it is new. */
  upsert(key: K, create: () => HTMLElement): HTMLElement {
    let row = this.rows.get(key);
    if (row) return row;
    row = create();
    this.rows.set(key, row);
    this.element.prepend(row);
    for (const [oldest, element] of this.rows) {
      if (this.rows.size <= this.max) break;
      element.remove();
      this.rows.delete(oldest);
    }
    return row;
  }

  clear(): void {
    this.rows.clear();
    this.element.replaceChildren();
  }
}

/** An element with text content and optional class names (text is never parsed as HTML). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = '',
  text = '',
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text) element.textContent = text;
  return element;
}

/** Minor units as a decimal amount: integers only, no floating point. */
export function formatMinor(minor: string, decimals: number): string {
  const negative = minor.startsWith('-');
  const digits = (negative ? minor.slice(1) : minor).padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = decimals ? `.${digits.slice(-decimals)}` : '';
  return `${negative ? '-' : '+'}${whole}${fraction}`;
}

export const timeOf = (iso: string) => new Date(iso).toLocaleTimeString();
