// A small sortable table that renders at most once per animation frame and, when virtual,
// only the rows visible in its fixed-height scroll container (plus a margin). Rows are a
// pool of <tr> elements updated in place: only the texts, classes and attributes that
// changed are written, so a live update costs a few text nodes, not a re-parse.

export interface Column<T> {
  id: string;
  label: string;
  /** Header tooltip. */
  title?: string;
  /** Value used for sorting (numbers sort numerically, null/undefined last). */
  sort?: (row: T) => number | string | boolean | null | undefined;
  /** Cell text. */
  text: (row: T) => string;
  /** Classes of the cell (also given to the header). */
  cls?: string;
  /** Classes computed per row, added to `cls`. */
  cellCls?: (row: T) => string;
  /** Cell tooltip computed per row. */
  tip?: (row: T) => string;
}

export interface TableOptions<T> {
  columns: Column<T>[];
  key: (row: T) => string;
  virtual?: boolean;
  rowHeight?: number;
  /** Extra attributes of the <tr> (data-symbol etc.). */
  rowAttrs?: (row: T) => Record<string, string>;
  rowCls?: (row: T) => string;
  onSelect?: (row: T) => void;
  sortBy?: string;
  sortDesc?: boolean;
  empty?: string;
  /** Filter applied before sorting. */
  filter?: (row: T) => boolean;
}

const OVERSCAN = 6;

/** One pooled row: its element, its cells' text nodes and what was last written. */
interface PoolRow {
  tr: HTMLTableRowElement;
  cells: HTMLTableCellElement[];
  texts: Text[];
  key: string;
  cls: string;
  cellCls: string[];
  tips: string[];
  attrs: Record<string, string>;
}

export class VTable<T> {
  private view: T[] = [];
  private source: () => Iterable<T> = () => [];
  private dataDirty = true;
  private frame = 0;
  private sortBy: string | undefined;
  private sortDesc: boolean;
  private readonly rowHeight: number;
  private readonly tbody: HTMLTableSectionElement;
  private readonly thead: HTMLTableSectionElement;
  private readonly scroller: HTMLElement;
  private readonly topSpacer: HTMLTableRowElement;
  private readonly bottomSpacer: HTMLTableRowElement;
  private readonly emptyRow: HTMLTableRowElement;
  private readonly pool: PoolRow[] = [];
  private selectedKey: string | null = null;
  private forceRows = true;
  private lastRange = '';
  // Layout metrics, cached so that rendering never forces a synchronous layout.
  private scrollTop = 0;
  private viewH = 0;
  private headH = 0;

  constructor(
    readonly table: HTMLTableElement,
    private readonly opt: TableOptions<T>,
  ) {
    this.rowHeight = opt.rowHeight ?? 22;
    this.sortBy = opt.sortBy;
    this.sortDesc = opt.sortDesc ?? false;
    this.scroller = (table.parentElement as HTMLElement) ?? table;
    table.style.setProperty('--row-h', this.rowHeight + 'px');
    this.thead = table.createTHead();
    this.tbody = table.tBodies[0] ?? table.createTBody();
    this.tbody.textContent = '';
    const ncol = opt.columns.length;
    const spacer = () => {
      const tr = document.createElement('tr');
      tr.className = 'spacer';
      const td = document.createElement('td');
      td.colSpan = ncol;
      tr.appendChild(td);
      tr.hidden = true;
      return tr;
    };
    this.topSpacer = spacer();
    this.bottomSpacer = spacer();
    this.emptyRow = spacer();
    this.emptyRow.className = 'empty';
    this.emptyRow.cells[0].textContent = opt.empty ?? 'none';
    this.tbody.append(this.emptyRow, this.topSpacer, this.bottomSpacer);
    this.renderHead();
    this.thead.addEventListener('click', (ev) => {
      const th = (ev.target as HTMLElement).closest('th');
      const id = th?.dataset.col;
      const col = this.opt.columns.find((c) => c.id === id);
      if (!col?.sort) return;
      if (this.sortBy === id) this.sortDesc = !this.sortDesc;
      else {
        this.sortBy = id;
        this.sortDesc = false;
      }
      this.renderHead();
      this.invalidate();
    });
    if (opt.onSelect) {
      this.tbody.addEventListener('click', (ev) => {
        const tr = (ev.target as HTMLElement).closest('tr');
        const k = tr?.dataset.key;
        if (k === undefined) return;
        const row = this.view.find((r) => this.opt.key(r) === k);
        if (row) {
          this.select(k);
          this.opt.onSelect!(row);
        }
      });
    }
    if (opt.virtual) {
      this.scroller.addEventListener(
        'scroll',
        () => {
          this.scrollTop = this.scroller.scrollTop;
          this.schedule();
        },
        { passive: true },
      );
      new ResizeObserver(() => {
        this.viewH = this.scroller.clientHeight;
        this.headH = this.thead.offsetHeight;
        this.schedule();
      }).observe(this.scroller);
    }
  }

  /** Where rows come from: called (at most once per frame) when the data is invalidated. */
  setSource(source: () => Iterable<T>): void {
    this.source = source;
    this.invalidate();
  }

  /** Marks the data changed; the table re-reads, re-sorts and re-renders on the next frame. */
  invalidate(): void {
    this.dataDirty = true;
    this.schedule();
  }

  select(key: string | null): void {
    this.selectedKey = key;
    this.forceRows = true;
    this.schedule();
  }

  /** Rows after filtering (as of the last render). */
  get size(): number {
    return this.view.length;
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private renderHead(): void {
    const tr = document.createElement('tr');
    for (const c of this.opt.columns) {
      const th = document.createElement('th');
      th.dataset.col = c.id;
      const sorted = c.id === this.sortBy ? (this.sortDesc ? ' sorted desc' : ' sorted asc') : '';
      th.className = `${c.cls ?? ''}${c.sort ? ' sortable' : ''}${sorted}`.trim();
      if (c.title) th.title = c.title;
      th.textContent = c.label;
      tr.appendChild(th);
    }
    this.thead.replaceChildren(tr);
  }

  private recompute(): void {
    const f = this.opt.filter;
    const view: T[] = [];
    for (const r of this.source()) if (!f || f(r)) view.push(r);
    const col = this.opt.columns.find((c) => c.id === this.sortBy);
    if (col?.sort) {
      const get = col.sort;
      const dir = this.sortDesc ? -1 : 1;
      const keyed = view.map((r) => ({ r, v: get(r) }));
      keyed.sort((a, b) => {
        const av = a.v;
        const bv = b.v;
        const an = av === null || av === undefined || (typeof av === 'number' && Number.isNaN(av));
        const bn = bv === null || bv === undefined || (typeof bv === 'number' && Number.isNaN(bv));
        if (an || bn) return an && bn ? 0 : an ? 1 : -1;
        if (typeof av === 'string' || typeof bv === 'string') return dir * String(av).localeCompare(String(bv), undefined, { numeric: true });
        return dir * (Number(av) - Number(bv));
      });
      for (let i = 0; i < view.length; i++) view[i] = keyed[i].r;
    }
    this.view = view;
  }

  private makeRow(): PoolRow {
    const tr = document.createElement('tr');
    const cells: HTMLTableCellElement[] = [];
    const texts: Text[] = [];
    for (const c of this.opt.columns) {
      const td = document.createElement('td');
      if (c.cls) td.className = c.cls;
      const t = document.createTextNode('');
      td.appendChild(t);
      tr.appendChild(td);
      cells.push(td);
      texts.push(t);
    }
    const n = this.opt.columns.length;
    return { tr, cells, texts, key: '', cls: '', cellCls: new Array(n).fill(null), tips: new Array(n).fill(''), attrs: {} };
  }

  private fill(p: PoolRow, r: T): void {
    const k = this.opt.key(r);
    if (p.key !== k) {
      p.key = k;
      p.tr.dataset.key = k;
    }
    let cls = this.opt.rowCls ? this.opt.rowCls(r) : '';
    if (k === this.selectedKey) cls += ' selected';
    if (cls !== p.cls) {
      p.cls = cls;
      p.tr.className = cls.trim();
    }
    if (this.opt.rowAttrs) {
      const a = this.opt.rowAttrs(r);
      for (const name in a) {
        if (p.attrs[name] !== a[name]) {
          p.attrs[name] = a[name];
          p.tr.setAttribute(name, a[name]);
        }
      }
    }
    const cols = this.opt.columns;
    for (let i = 0; i < cols.length; i++) {
      const c = cols[i];
      const text = c.text(r);
      const tn = p.texts[i];
      if (tn.data !== text) tn.data = text;
      if (c.cellCls) {
        const cc = c.cellCls(r);
        if (cc !== p.cellCls[i]) {
          p.cellCls[i] = cc;
          p.cells[i].className = `${c.cls ?? ''} ${cc}`.trim();
        }
      }
      if (c.tip) {
        const tip = c.tip(r);
        if (tip !== p.tips[i]) {
          p.tips[i] = tip;
          p.cells[i].title = tip;
        }
      }
    }
  }

  private setSpacer(tr: HTMLTableRowElement, px: number): void {
    const hide = px <= 0;
    if (tr.hidden !== hide) tr.hidden = hide;
    const h = px + 'px';
    if (!hide && tr.style.height !== h) tr.style.height = h;
  }

  render(): void {
    const changed = this.dataDirty || this.forceRows;
    if (this.dataDirty) this.recompute();
    this.dataDirty = false;
    this.forceRows = false;
    const n = this.view.length;
    if (this.emptyRow.hidden !== n > 0) this.emptyRow.hidden = n > 0;
    let first = 0;
    let last = n;
    if (this.opt.virtual) {
      const h = this.rowHeight;
      const top = Math.max(0, this.scrollTop - (this.headH || h));
      const viewH = this.viewH || 600;
      first = Math.min(n, Math.max(0, Math.floor(top / h) - OVERSCAN));
      last = Math.min(n, Math.ceil((top + viewH) / h) + OVERSCAN);
    }
    const range = `${first}:${last}:${n}`;
    if (!changed && range === this.lastRange) return;
    this.lastRange = range;
    const count = last - first;
    while (this.pool.length < count) {
      const p = this.makeRow();
      this.pool.push(p);
      this.tbody.insertBefore(p.tr, this.bottomSpacer);
    }
    while (this.pool.length > count) this.pool.pop()!.tr.remove();
    for (let i = 0; i < count; i++) this.fill(this.pool[i], this.view[first + i]);
    this.setSpacer(this.topSpacer, first * this.rowHeight);
    this.setSpacer(this.bottomSpacer, (n - last) * this.rowHeight);
  }
}
