/** Stylesheet of the demo pages: one column that fits a phone, wider cards on a desktop. */
export const DEMO_CSS = `
:root { color-scheme: light; --accent: #0a7c59; --fail: #b3261e; --muted: #5f6368; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, sans-serif; background: #f3f5f4; color: #1d1f1e; }
.bar { display: flex; justify-content: space-between; align-items: center; padding: 12px 16px; background: var(--accent); color: #fff; }
.bar .link { color: #fff; }
main { max-width: 640px; margin: 0 auto; padding: 12px; }
.card { background: #fff; border-radius: 12px; padding: 16px; margin-bottom: 12px; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
h2 { font-size: 1.05rem; margin: 16px 0 8px; }
label { display: block; margin: 10px 0; }
label > span { display: block; font-size: .9rem; color: var(--muted); }
input:not([type=radio]):not([type=checkbox]) { width: 100%; padding: 10px; font-size: 1rem; border: 1px solid #c4c7c5; border-radius: 8px; }
button { font-size: 1rem; padding: 10px 16px; border-radius: 8px; border: 1px solid var(--accent); background: #fff; color: var(--accent); cursor: pointer; }
button.primary { background: var(--accent); color: #fff; width: 100%; margin-top: 8px; }
button.link { border: none; background: none; text-decoration: underline; padding: 4px; }
button:disabled { opacity: .5; cursor: default; }
.choice, .switch { display: flex; gap: 8px; align-items: center; }
.hint { color: var(--muted); font-size: .9rem; }
.error { color: var(--fail); }
#payment-link { word-break: break-all; font-weight: 600; }
#qr { display: block; margin: 8px auto; max-width: 60vw; height: auto; }
.status { display: inline-block; padding: 2px 10px; border-radius: 999px; background: #e3e7e5; font-weight: 600; }
.status[data-status=IN_PROGRESS], .status[data-status=CLAIMED] { background: #fff1c2; }
.status[data-status=PAID], .status[data-state=live] { background: #c8efd9; color: #0a5c41; }
.status[data-status=FAILED], .status[data-status=CLOSED] { background: #fbd7d4; color: var(--fail); }
.timeline { list-style: none; padding: 0; margin: 0; }
.timeline li { display: flex; justify-content: space-between; gap: 8px; padding: 8px 0; border-bottom: 1px solid #eceeed; }
.timeline time { color: var(--muted); font-variant-numeric: tabular-nums; }
.timeline li[data-event=PAYMENT_SUCCESS] { color: #0a5c41; font-weight: 600; }
.timeline li[data-event=PAYMENT_ERROR] { color: var(--fail); font-weight: 600; }
#result[data-result=PAID] { color: #0a5c41; }
#result[data-result=FAILED] { color: var(--fail); }
.inline { display: flex; gap: 8px; align-items: end; }
.inline label { flex: 1; margin: 0; }
.totals { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; margin-bottom: 12px; }
.total { background: #fff; border-radius: 12px; padding: 10px; text-align: center; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
.total .value { display: block; font-size: 1.5rem; font-weight: 700; }
table { width: 100%; border-collapse: collapse; font-size: .9rem; }
th, td { text-align: left; padding: 6px 4px; border-bottom: 1px solid #eceeed; vertical-align: top; }
td:first-child, .member { word-break: break-all; }
td .status { white-space: nowrap; font-size: .8rem; }
`;

/** Page icon: a green circle, so that browsers do not request `/favicon.ico`. */
export const DEMO_ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="8" fill="#0a7c59"/></svg>';
