import { type ReactNode, useEffect, useId, useRef } from 'react';

export interface ConfirmDialogProps {
  title: string;
  children?: ReactNode;
  confirmLabel: string;
  cancelLabel: string;
  /** The confirm button in the danger colour (cancelling an alert, issuing a real one). */
  danger?: boolean;
  busy?: boolean;
  busyLabel?: string;
  error?: string | undefined;
  onConfirm(): void;
  onClose(): void;
}

/**
 * A modal confirmation (the native <dialog>: focus stays inside, Escape closes it). The
 * confirm button has the focus when it opens, so a cancel is one press of Enter away.
 * Rendered only while open.
 */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  cancelLabel,
  danger,
  busy,
  busyLabel,
  error,
  onConfirm,
  onClose,
}: ConfirmDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const confirm = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  const closing = useRef(onClose);
  closing.current = onClose;

  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (!element.open) element.showModal();
    confirm.current?.focus();
    const cancelled = (event: Event) => {
      event.preventDefault();
      closing.current();
    };
    element.addEventListener('cancel', cancelled);
    return () => {
      element.removeEventListener('cancel', cancelled);
      if (element.open) element.close();
    };
  }, []);

  return (
    <dialog ref={dialog} className="confirm-dialog" aria-labelledby={titleId}>
      <h2 id={titleId}>{title}</h2>
      {children}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="dialog-actions">
        <button
          ref={confirm}
          type="button"
          className={danger ? 'danger' : 'primary'}
          disabled={busy}
          onClick={onConfirm}
        >
          {busy ? (busyLabel ?? confirmLabel) : confirmLabel}
        </button>
        <button type="button" onClick={onClose} disabled={busy}>
          {cancelLabel}
        </button>
      </div>
    </dialog>
  );
}
