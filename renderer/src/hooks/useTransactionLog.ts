// The transaction log, newest first, a page at a time: search finds whole flows (a holder's name, an
// amount as typed, a flow or card ID, an item, a kind or step), "Older" follows the terminal's
// cursor (offered only when an older entry exists), "Newer" goes back along the cursors seen. The
// newest page reloads by itself when a flow ends (here or in another window) and when the link to
// the terminal comes back.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ErrorInfo, LogRecordWire, ResponseOf } from '../../../electron/ipc/contract.js';
import { LOG_PAGE } from '../log-page.js';
import type { TerminalApi } from '../terminal-api.js';

/** Steps that end a flow (the journal's closing steps). */
const CLOSING_STEPS = new Set(['completed', 'rolled-back', 'refunded', 'failed-no-value-moved']);

export type VerifyNote = { ok: true; count: number } | { ok: false; error: ErrorInfo };

export function useTransactionLog(api: TerminalApi) {
  /** beforeSeq of each page shown after the first: empty on the newest page. */
  const [cursor, setCursor] = useState<number[]>([]);
  const [search, setSearch] = useState('');
  /** The search the page shown was loaded with (the field may have been edited since). */
  const [applied, setApplied] = useState('');
  const [page, setPage] = useState<{
    records: LogRecordWire[];
    next?: number;
    search?: ResponseOf<'log:page'>['search'];
  }>({ records: [] });
  const [verify, setVerify] = useState<VerifyNote | undefined>();

  /**
   * The last page asked for (its number, cursor and search): an answer to an earlier request never
   * replaces a later one's page, and a reload asks again for what was asked last.
   */
  const asked = useRef({ request: 0, at: [] as number[], text: '' });
  const load = useCallback(
    async (at: number[], text: string) => {
      const before = at.at(-1);
      const request = asked.current.request + 1;
      asked.current = { request, at, text };
      const r = await api.call('log:page', {
        limit: LOG_PAGE,
        beforeSeq: before,
        search: text || undefined,
      });
      if (!r.ok || request !== asked.current.request) return;
      setCursor(at);
      setApplied(text);
      setPage({
        records: r.value.records,
        next: r.value.nextBeforeSeq,
        search: r.value.search,
      });
    },
    [api],
  );

  useEffect(() => {
    void load([], '');
  }, [load]);

  // A flow that ends changes the newest page: reload it (once for a burst of steps) if it is the
  // page asked for last.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const reloadNewest = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (asked.current.at.length === 0) void load([], asked.current.text);
      }, 250);
    };
    const offs = [
      api.on('transfer-step', (e) => {
        if (CLOSING_STEPS.has(e.step)) reloadNewest();
      }),
      api.on('recovered', reloadNewest),
      api.onConnection((up) => {
        if (up) reloadNewest();
      }),
    ];
    return () => {
      clearTimeout(timer);
      for (const off of offs) off();
    };
  }, [api, load]);

  return {
    page,
    pageNumber: cursor.length + 1,
    search,
    setSearch,
    applied,
    verify,
    /** Runs the search typed, from the newest entry. */
    submitSearch: () => load([], search.trim()),
    /** The newest page of the current search (after a payment, recovery...). */
    reload: () => load([], applied),
    hasNewer: cursor.length > 0,
    hasOlder: page.next !== undefined,
    newer: () => load(cursor.slice(0, -1), applied),
    older: () => (page.next !== undefined ? load([...cursor, page.next], applied) : Promise.resolve()),
    verifyLog: async () => {
      const r = await api.call('log:verify');
      if (!r.ok) return setVerify({ ok: false, error: r.error });
      setVerify(
        r.value.ok
          ? { ok: true, count: r.value.count }
          : {
              ok: false,
              error: {
                code: 'E_LOG_TAMPERED',
                message: `the hash chain breaks at entry ${r.value.firstBadSeq} (${r.value.reason})`,
                details: {},
              },
            },
      );
    },
  };
}
