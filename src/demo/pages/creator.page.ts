import { renderPage, t, type PageSettings } from './layout.js';

/** The creator's page: a payment form, then the link, its QR code and the live timeline. */
export function creatorPage(settings: PageSettings): string {
  return renderPage(
    'creator.title',
    'creator',
    settings,
    `<section id="start" class="card">
<p ${t('creator.intro')}</p>
<form id="payment-form">
<label><span ${t('creator.amount')}</span>
<input id="amount" name="amount" inputmode="decimal" value="25,90" required pattern="[0-9]{1,7}([.,][0-9]{1,2})?"></label>
<label><span ${t('creator.description')}</span>
<input id="description" name="description" maxlength="60" data-i18n-value="creator.descriptionDefault" value="Café e pão de queijo"></label>
<button type="submit" id="create" class="primary" ${t('creator.create')}</button>
</form>
</section>
<section id="payment" class="card" hidden>
<p class="status-line"><span ${t('creator.status')}</span>: <span id="status" class="status" data-status="CONNECTING" data-i18n="status.CONNECTING">Conectando</span></p>
<h2 ${t('creator.link')}</h2>
<p><a id="payment-link" target="_blank" rel="noopener"></a></p>
<img id="qr" alt="" width="200" height="200">
<p class="hint" ${t('creator.qr')}</p>
<h2 ${t('creator.timeline')}</h2>
<ol id="timeline" class="timeline"></ol>
<p id="timeline-empty" class="hint" ${t('creator.empty')}</p>
<button type="button" id="again" ${t('creator.again')}</button>
</section>`,
  );
}
