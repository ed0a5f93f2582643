// A modal dialog of the operator screen (the native <dialog>: focus stays inside, the page behind is
// inert): a title, its content, and Escape or Close to leave it unless an operation runs.
import { type ReactNode, useEffect, useRef } from 'react';

export function Modal(props: {
  id: string;
  title: string;
  /** Escape and Close do nothing while an operation runs. */
  busy?: boolean;
  onClose: () => void;
  wide?: boolean;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  const titleId = `${props.id}-title`;
  return (
    <dialog
      ref={ref}
      className={props.wide ? 'modal wide' : 'modal'}
      aria-labelledby={titleId}
      data-testid={props.id}
      onCancel={(e) => {
        e.preventDefault();
        if (!props.busy) props.onClose();
      }}
    >
      <div className="modal-head">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" className="small" disabled={props.busy} onClick={props.onClose}>
          Close
        </button>
      </div>
      {props.children}
    </dialog>
  );
}
