// Names the operator reads for the journal's flow kinds and steps (the journal's own names stay in
// data attributes and in the log's search).

export const KIND_LABEL: Readonly<Record<string, string>> = {
  'key-update': 'Key update',
  'value-transfer': 'Value transfer',
  'content-transfer': 'Content transfer',
  'content-exchange': 'Content exchange',
  recovery: 'Recovery',
  admin: 'Administration',
};

export const STEP_LABEL: Readonly<Record<string, string>> = {
  planned: 'route chosen',
  'update-random': 'receiver challenge',
  exported: 'keys sent',
  started: 'started',
  'debit-initiated': 'debit prepared',
  'credit-initiated': 'credit prepared',
  debited: 'payer debited',
  credited: 'payee credited',
  completed: 'done',
  aborted: 'aborted',
  interrupted: 'interrupted',
  'rolled-back': 'cancelled, no value moved',
  'failed-no-value-moved': 'refused, no value moved',
  'issue-requested': 'issue asked',
  'issue-authorized': 'issue authorized',
  'issue-rejected': 'issue rejected',
  'issue-interrupted': 'issue interrupted',
  'register-requested': 'registration asked',
  registered: 'registered',
  'register-rejected': 'registration rejected',
  sent: 'item sent',
  received: 'item received',
  committed: 'committed',
  accepted: 'accepted',
  'first-sent': 'first half sent',
  'first-received': 'first half received',
  'second-sent': 'second half sent',
  'second-received': 'second half received',
  'first-committed': 'first half committed',
  'first-accepted': 'first half accepted',
  'second-accepted': 'second half accepted',
  'card-refused': 'card refused',
  'outcome-unknown': 'settled at another terminal: outcome with the issuer',
};

export const kindLabel = (kind: string): string => KIND_LABEL[kind] ?? kind;
export const stepLabel = (step: string): string => STEP_LABEL[step] ?? step;
