// The transaction log, newest first, a page at a time: search narrows it (flow ID, step, card ID or
// any payload text), "Older" follows the journal's cursor, "Newer" goes back along the cursors seen.
import { useCallback, useEffect, useState } from 'react';
import type { ErrorInfo, JournalRecordWire } from '../../../electron/ipc/contract.js';
import { LOG_PAGE } from '../log-page.js';
import type { TerminalApi } from '../terminal-api.js';

export type VerifyNote = { ok: true; count: number } | { ok: false; error: ErrorInfo };

export function useTransactionLog(api: TerminalApi) {
  /** beforeSeq of each page shown after the first: empty on the newest page. */
  const [cursor, setCursor] = useState<number[]>([]);
  const [search, setSearch] = useState('');
  /** The search the page shown was loaded with (the field may have been edited since). */
  const [applied, setApplied] = useState('');
  const [page, setPage] = useState<{ records: JournalRecordWire[]; next?: number }>({ records: [] });
  const [verify, setVerify] = useState<VerifyNote | undefined>();

  const load = useCallback(
    async (at: number[], text: string) => {
      const before = at.at(-1);
      const r = await api.call('log:page', {
        limit: LOG_PAGE,
        beforeSeq: before,
        search: text || undefined,
      });
      if (!r.ok) return;
      setCursor(at);
      setApplied(text);
      setPage({
        records: r.value.records,
        next: r.value.nextBeforeSeq,
      });
    },
    [api],
  );

  useEffect(() => {
    void load([], '');
  }, [load]);

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
