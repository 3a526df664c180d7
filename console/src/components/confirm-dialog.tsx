import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { Problem } from './problem.js';
import { useAction } from './use-action.js';

export interface ConfirmDialogProps {
  title: string;
  /** What will happen, in the admin's words (who is affected, what is kept). */
  children: ReactNode;
  confirmLabel: string;
  /** The button that asks nothing: "Cancel" unless that would read as the action (cancelling a run). */
  dismissLabel?: string;
  danger?: boolean;
  /** For what cannot be undone: the admin types this (e.g. the connection's name) before the button works. */
  typeToConfirm?: string;
  /** The change; a refusal is shown in the dialog, which stays open. */
  onConfirm: () => Promise<void>;
  onClose: () => void;
}

/**
 * Asks before a change (a modal <dialog>: focus stays inside, Escape cancels, focus returns where it was).
 * Rendered only while it asks.
 */
export function ConfirmDialog({ title, children, confirmLabel, dismissLabel = 'Cancel', danger = false, typeToConfirm, onConfirm, onClose }: ConfirmDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const id = useId();
  const [typed, setTyped] = useState('');
  const { busy, problem, run } = useAction();
  // Not closed on unmount: leaving the page takes it away, and a close() there would report a close the admin
  // did not ask for (StrictMode runs an effect's cleanup once in development).
  useEffect(() => {
    if (dialog.current && !dialog.current.open) dialog.current.showModal();
  }, []);
  const ready = !busy && (typeToConfirm === undefined || typed === typeToConfirm);
  return (
    <dialog ref={dialog} className="confirm-dialog" aria-labelledby={`${id}-title`} onClose={onClose}>
      <h2 id={`${id}-title`}>{title}</h2>
      <div>{children}</div>
      {typeToConfirm !== undefined ? (
        <p>
          <label htmlFor={`${id}-typed`}>Type “{typeToConfirm}” to confirm</label>
          <input id={`${id}-typed`} value={typed} onChange={(event) => setTyped(event.target.value)} autoComplete="off" />
        </p>
      ) : null}
      {problem ? <Problem problem={problem} /> : null}
      <div className="toolbar">
        <button type="button" className={danger ? 'danger' : 'primary'} disabled={!ready} onClick={() => void run(onConfirm)}>
          {busy ? 'Working…' : confirmLabel}
        </button>
        <button type="button" onClick={() => dialog.current?.close()} disabled={busy}>
          {dismissLabel}
        </button>
      </div>
    </dialog>
  );
}
