// A card's contents (tickets, coupons...) as its access level shows them: every item's type and
// label, its body only where the card gave it (public items; the owner's; the issuer's own items in an
// issuer session). A hidden body is masked, never guessed.
import type { ContentListingWire, ErrorInfo, SlotNameWire } from '../../../electron/ipc/contract.js';
import { bodyText } from '../format.js';
import { ErrorLine } from './ErrorLine.js';

const TYPE_LABEL: Record<string, string> = {
  ticket: 'Ticket',
  coupon: 'Coupon',
  'personal-data': 'Personal',
  key: 'Key',
};

function accessText(listing: ContentListingWire): { text: string; tone: 'good' | 'muted' } {
  const a = listing.access;
  if (a.session === 'issuer') return { text: 'Issuer view', tone: 'good' };
  if (a.owner) return { text: 'Owner view', tone: 'good' };
  return { text: 'Details hidden: owner PIN or issuer session needed', tone: 'muted' };
}

export function ContentsPanel(props: {
  slot: SlotNameWire;
  listing: ContentListingWire | undefined;
  error: ErrorInfo | undefined;
  /** Opens the item's actions (sell, give, take back, change). */
  onItem?: (item: ContentListingWire['items'][number]) => void;
}) {
  const { slot, listing } = props;
  const access = listing ? accessText(listing) : undefined;
  return (
    <section className="contents" aria-labelledby={`${slot}-contents-title`} data-testid={`${slot}-contents`}>
      <h3 id={`${slot}-contents-title`}>
        Contents{listing ? ` (${listing.items.length})` : ''}
        {access && (
          <span className={`access ${access.tone}`} data-testid={`${slot}-contents-access`}>
            {access.text}
          </span>
        )}
      </h3>
      {props.error && <ErrorLine error={props.error} />}
      {listing && listing.items.length === 0 && <p className="note">No tickets or coupons on this card.</p>}
      {listing && listing.items.length > 0 && (
        <ul className={props.onItem ? 'items with-actions' : 'items'}>
          {listing.items.map((i) => (
            <li key={i.id} data-testid={`${slot}-item`} data-policy={i.policy}>
              <span className="type">{TYPE_LABEL[i.type] ?? i.type}</span>
              <span className="label">{i.label}</span>
              {i.body === undefined ? (
                <span className="body masked" title="Hidden at this access level">
                  ••••
                </span>
              ) : (
                <span className="body">{bodyText(i.body)}</span>
              )}
              {props.onItem && !i.locked && (
                <span className="act">
                  <button
                    type="button"
                    className="small"
                    aria-label={`Actions for ${i.label || 'this item'}`}
                    onClick={() => props.onItem?.(i)}
                  >
                    …
                  </button>
                </span>
              )}
              {i.locked && <span className="badge warn">in transfer</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
