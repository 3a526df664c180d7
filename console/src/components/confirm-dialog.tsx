import type { ReactNode } from 'react';
import { useAction } from '../api/use-action.js';
import { Dialog } from './dialog.js';
import { Problem } from './problem.js';

interface ConfirmDialogProps {
  title: string;
  /** What will happen, in words an admin can weigh. */
  children: ReactNode;
  confirmLabel: string;
  /** The change cannot be undone (deletes): the button says so by its colour. */
  danger?: boolean;
  /** Makes the change; a refusal is shown in the dialog, which stays open. */
  onConfirm(): Promise<void>;
  onCancel(): void;
}

/** Asks before a change: Cancel is focused first, so Enter on the dialog changes nothing. */
export function ConfirmDialog({ title, children, confirmLabel, danger, onConfirm, onCancel }: ConfirmDialogProps) {
  const action = useAction();
  return (
    <Dialog title={title} onClose={onCancel}>
      {children}
      {action.problem ? <Problem problem={action.problem} /> : null}
      <div className="dialog-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className={danger ? 'danger' : 'primary'} onClick={() => void action.run(onConfirm)} disabled={action.busy}>
          {confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}
