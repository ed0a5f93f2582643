// The back-office views under the sale, one at a time: tabs in the Tab order (Enter or Space opens
// one; the arrow keys move between them). Hidden views stay mounted, so a search or a chosen day
// survives switching.
import { type KeyboardEvent, type ReactNode, useRef } from 'react';

export interface DeskTab {
  id: string;
  title: ReactNode;
  /** Plain name for the accessibility tree when the title carries a badge. */
  label: string;
  body: ReactNode;
}

export function DeskTabs(props: { tabs: DeskTab[]; active: string; onSelect: (id: string) => void }) {
  const { tabs, active } = props;
  const refs = useRef<Record<string, HTMLButtonElement | null>>({});
  const move = (e: KeyboardEvent, index: number) => {
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    e.preventDefault();
    const next = tabs[(index + step + tabs.length) % tabs.length]!;
    props.onSelect(next.id);
    refs.current[next.id]?.focus();
  };
  return (
    <section className="panel desk" aria-label="Terminal records">
      <div className="tabs" role="tablist" aria-label="Terminal records">
        {tabs.map((t, i) => (
          <button
            key={t.id}
            ref={(el) => {
              refs.current[t.id] = el;
            }}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={t.id === active}
            aria-controls={`view-${t.id}`}
            aria-label={t.label}
            data-testid={`tab-${t.id}`}
            onClick={() => props.onSelect(t.id)}
            onKeyDown={(e) => move(e, i)}
          >
            {t.title}
          </button>
        ))}
      </div>
      {tabs.map((t) => (
        <div
          key={t.id}
          role="tabpanel"
          id={`view-${t.id}`}
          aria-labelledby={`tab-${t.id}`}
          className="view"
          hidden={t.id !== active}
        >
          {t.body}
        </div>
      ))}
    </section>
  );
}
