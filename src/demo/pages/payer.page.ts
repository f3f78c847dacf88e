import { renderPage, t, type PageSettings } from './layout.js';

const METHODS = ['PIX', 'CREDIT_CARD', 'BOLETO'] as const;

/**
 * The payer's mock checkout: summary, proceed, payment method, data and pay,
 * with a switch that makes the payment fail.
 */
export function payerPage(settings: PageSettings, roomId: string): string {
  const methods = METHODS.map(
    (method, index) =>
      `<label class="choice"><input type="radio" name="method" value="${method}"${index === 0 ? ' checked' : ''}> <span ${t(`method.${method}`)}</span></label>`,
  ).join('\n');
  return renderPage(
    'payer.title',
    'payer',
    settings,
    `<section id="step-summary" class="card step">
<h2 ${t('payer.summary')}</h2>
<p id="order-description"></p>
<p><span ${t('payer.amount')}</span>: <strong id="order-amount"></strong></p>
<button type="button" id="proceed" class="primary" ${t('payer.proceed')}</button>
</section>
<section id="step-method" class="card step" hidden>
<h2 ${t('payer.method')}</h2>
${methods}
<button type="button" id="method-next" class="primary" ${t('payer.next')}</button>
</section>
<section id="step-data" class="card step" hidden>
<h2 ${t('payer.data')}</h2>
<form id="data-form">
<label><span ${t('payer.name')}</span><input id="payer-name" name="name" autocomplete="name" required></label>
<label><span ${t('payer.email')}</span><input id="payer-email" name="email" type="email" autocomplete="email" required></label>
<p class="hint" ${t('payer.dataNote')}</p>
<label class="switch"><input type="checkbox" id="fail-switch"> <span ${t('payer.fail')}</span></label>
<button type="submit" id="pay" class="primary" ${t('payer.pay')}</button>
</form>
</section>
<section id="step-result" class="card step" hidden>
<h2 id="result" data-result=""></h2>
<p id="delivered" class="hint" hidden ${t('payer.delivered')}</p>
<button type="button" id="retry" hidden ${t('payer.retry')}</button>
</section>
<p id="error" class="error" hidden></p>`,
    { 'room-id': roomId },
  );
}
