// Confirmation modal (#confirm-dialog): a real DOM dialog, not window.confirm, so that
// it is styled like the page and browser tests can click #confirm-ok / #confirm-cancel.

export interface ConfirmRequest {
  title: string;
  body: string;
  /** Label of the confirm button. */
  action?: string;
  danger?: boolean;
  /** Shows an optional "reason" field; its value is returned. */
  askReason?: boolean;
}

export interface ConfirmResult {
  ok: boolean;
  reason: string;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let pending: ((r: ConfirmResult) => void) | null = null;

function finish(ok: boolean): void {
  const dlg = $<HTMLDialogElement>('confirm-dialog');
  const reason = $<HTMLInputElement>('confirm-reason').value.trim();
  const resolve = pending;
  pending = null;
  if (dlg.open) dlg.close();
  resolve?.({ ok, reason: ok ? reason : '' });
}

export function initModal(): void {
  const dlg = $<HTMLDialogElement>('confirm-dialog');
  $('confirm-cancel').addEventListener('click', () => finish(false));
  dlg.addEventListener('cancel', (ev) => {
    ev.preventDefault();
    finish(false);
  });
  $('confirm-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    finish(true);
  });
}

export function confirmAction(req: ConfirmRequest): Promise<ConfirmResult> {
  if (pending) finish(false);
  const dlg = $<HTMLDialogElement>('confirm-dialog');
  $('confirm-title').textContent = req.title;
  $('confirm-body').textContent = req.body;
  const ok = $<HTMLButtonElement>('confirm-ok');
  ok.textContent = req.action ?? 'Confirm';
  ok.classList.toggle('danger', !!req.danger);
  const reasonRow = $('confirm-reason-row');
  const reason = $<HTMLInputElement>('confirm-reason');
  reason.value = '';
  reasonRow.hidden = !req.askReason;
  return new Promise((resolve) => {
    pending = resolve;
    dlg.showModal();
    (req.askReason ? reason : $<HTMLButtonElement>('confirm-cancel')).focus();
  });
}
