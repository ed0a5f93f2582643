// How many journal entries one page of the transaction log shows: what fits the record views at
// 1024×768 without scrolling, and what the UI tests page through.
export const LOG_PAGE = 10;
