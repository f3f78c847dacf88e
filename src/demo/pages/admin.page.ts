import { renderPage, t, type PageSettings } from './layout.js';

const TOTALS = [
  ['connections', 'admin.connections'],
  ['rooms', 'admin.rooms'],
  ['relayed', 'admin.relayed'],
  ['paymentsCompleted', 'admin.paid'],
  ['paymentsFailed', 'admin.failed'],
  ['rejected', 'admin.rejected'],
] as const;

/** The admin page: totals and rooms with their status and members, from the live stream. */
export function adminPage(settings: PageSettings): string {
  const totals = TOTALS.map(
    ([field, key]) =>
      `<div class="total"><span class="value" id="total-${field}">0</span><span ${t(key)}</span></div>`,
  ).join('\n');
  return renderPage(
    'admin.title',
    'admin',
    settings,
    `<section class="card">
<form id="token-form" class="inline">
<label><span ${t('admin.token')}</span><input id="token" type="password" autocomplete="off"></label>
<button type="submit" ${t('admin.connect')}</button>
</form>
<p><span id="stream-state" class="status" data-state="offline" data-i18n="admin.offline">Desconectado</span></p>
</section>
<section class="totals">
${totals}
</section>
<section class="card">
<table id="rooms">
<thead><tr><th ${t('admin.room')}</th><th ${t('admin.status')}</th><th ${t('admin.members')}</th></tr></thead>
<tbody></tbody>
</table>
</section>`,
  );
}
