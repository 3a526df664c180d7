import { useId, useState, type ReactNode } from 'react';
import { useAction } from '../api/use-action.js';
import { Dialog } from './dialog.js';
import { Problem } from './problem.js';

interface ConfirmDialogProps {
  title: string;
  /** What will happen, in words an admin can weigh (who is affected, what is kept). */
  children: ReactNode;
  confirmLabel: string;
  /** The button that asks nothing: "Cancel" unless that would read as the action (cancelling a run). */
  dismissLabel?: string;
  /** The change cannot be undone (deletes): the button says so by its colour. */
  danger?: boolean;
  /** For what cannot be undone: the admin types this (e.g. the connection's name) before the button works. */
  typeToConfirm?: string;
  /** Makes the change; a refusal is shown in the dialog, which stays open. */
  onConfirm(): Promise<void>;
  onCancel(): void;
}

/** Asks before a change: the dismiss button comes first, so Enter on the dialog changes nothing. */
export function ConfirmDialog({ title, children, confirmLabel, dismissLabel = 'Cancel', danger, typeToConfirm, onConfirm, onCancel }: ConfirmDialogProps) {
  const action = useAction();
  const id = useId();
  const [typed, setTyped] = useState('');
  const ready = !action.busy && (typeToConfirm === undefined || typed === typeToConfirm);
  return (
    <Dialog title={title} onClose={onCancel}>
      {children}
      {typeToConfirm !== undefined ? (
        <p>
          <label htmlFor={`${id}-typed`}>Type “{typeToConfirm}” to confirm</label>
          <input id={`${id}-typed`} value={typed} onChange={(event) => setTyped(event.target.value)} autoComplete="off" />
        </p>
      ) : null}
      {action.problem ? <Problem problem={action.problem} /> : null}
      <div className="dialog-actions">
        <button type="button" onClick={onCancel} disabled={action.busy}>
          {dismissLabel}
        </button>
        <button type="button" className={danger ? 'danger' : 'primary'} onClick={() => void action.run(onConfirm)} disabled={!ready}>
          {action.busy ? 'Working…' : confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}
