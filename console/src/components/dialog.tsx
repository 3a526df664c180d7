import { useId, useLayoutEffect, useRef, type ReactNode } from 'react';

/**
 * A modal dialog (the browser's own `<dialog>`: focus kept inside, Escape closes it, focus returns after).
 * Render it only while it is open; `onClose` is called when the admin closes it (Escape, a Cancel button).
 */
export function Dialog({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useLayoutEffect(() => {
    const dialog = ref.current;
    dialog?.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      onCancel={(event) => {
        // Escape: the parent decides (it stops rendering the dialog).
        event.preventDefault();
        onClose();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}
