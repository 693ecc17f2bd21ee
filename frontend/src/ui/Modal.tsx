import { useEffect, useRef, type ReactNode } from 'react';
import { Icon } from './icons';

/** A dialog over the page; Esc and a click outside close it. */
export function Modal(props: { title: string; onClose: () => void; children: ReactNode; testId?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const first = ref.current?.querySelector<HTMLElement>('input, select, textarea, button');
    first?.focus();
  }, []);
  return (
    <div
      className="modal-backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) props.onClose();
      }}
    >
      <div
        className="modal"
        role="dialog"
        aria-modal="true"
        aria-label={props.title}
        ref={ref}
        data-testid={props.testId}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.stopPropagation();
            props.onClose();
          }
        }}
      >
        <header className="modal-header">
          <h2>{props.title}</h2>
          <button type="button" className="icon-button" aria-label="Close" onClick={props.onClose}><Icon name="close" /></button>
        </header>
        <div className="modal-body">{props.children}</div>
      </div>
    </div>
  );
}
