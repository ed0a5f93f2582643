// The shop's operations that start from no particular item: issue a ticket or coupon on the shop's
// card, refund a sale.
export function ShopTools(props: { busy: boolean; onIssue: () => void; onRefund: () => void }) {
  return (
    <div className="row shop-tools" data-testid="shop-tools">
      <button type="button" className="small" disabled={props.busy} onClick={props.onIssue}>
        Issue ticket or coupon…
      </button>
      <button type="button" className="small" disabled={props.busy} onClick={props.onRefund}>
        Refund a sale…
      </button>
    </div>
  );
}
