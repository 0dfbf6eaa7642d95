// Every write action asks first: a modal <dialog> (focus is trapped and Escape cancels, by the
// browser), saying what will happen in the operator's words.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

export interface ConfirmRequest {
  readonly title: string;
  readonly body: ComponentChildren;
  readonly confirm: string;
  readonly danger?: boolean;
  readonly run: () => Promise<void>;
}

export function ConfirmDialog({ request, onClose }: { request: ConfirmRequest | null; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (request && !d.open) d.showModal();
    if (!request && d.open) d.close();
  }, [request]);
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title" onClose={onClose} data-testid="confirm">
      {request && (
        <form
          method="dialog"
          onSubmit={(e) => {
            e.preventDefault();
            onClose();
            void request.run();
          }}
        >
          <h2 id="confirm-title">{request.title}</h2>
          <div>{request.body}</div>
          <div class="actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" class={request.danger ? 'primary danger-fill' : 'primary'} autofocus>
              {request.confirm}
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
