import { useEffect, useRef, type ReactNode } from 'react';
import { Icon } from './icons';

const FIELDS = 'input, select, textarea, button';

/**
 * A dialog over the page; Esc and a click outside close it. It focuses its
 * first field (not the Close button of its header), and gives the focus back
 * to where it was when it closes.
 */
export function Modal(props: { title: string; onClose: () => void; children: ReactNode; testId?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const body = ref.current?.querySelector('.modal-body');
    const first = body?.querySelector<HTMLElement>(FIELDS) ?? ref.current?.querySelector<HTMLElement>(FIELDS);
    first?.focus();
    return () => {
      if (before?.isConnected) before.focus();
    };
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
