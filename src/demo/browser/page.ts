import { LANGUAGES, text, type Language } from './i18n.js';

const LANGUAGE_KEY = 'payment-relay-demo-language';

/** The page's language: `?lang=en`, then the stored choice, then Portuguese. */
export function currentLanguage(): Language {
  const requested = new URLSearchParams(location.search).get('lang');
  const stored = localStorage.getItem(LANGUAGE_KEY);
  for (const candidate of [requested, stored]) {
    if (LANGUAGES.includes(candidate as Language)) {
      return candidate as Language;
    }
  }
  return 'pt-BR';
}

/** Rewrites every `data-i18n` element (and `data-i18n-value` input) in `language`. */
export function applyLanguage(language: Language): void {
  document.documentElement.lang = language;
  for (const element of document.querySelectorAll<HTMLElement>('[data-i18n]')) {
    element.textContent = text(language, element.dataset.i18n ?? '');
  }
  for (const input of document.querySelectorAll<HTMLInputElement>(
    'input[data-i18n-value]',
  )) {
    if (!input.dataset.edited) {
      input.value = text(language, input.dataset.i18nValue ?? '');
    }
  }
}

/**
 * Applies the current language and wires the switch button.
 * @param onChange called after each switch, to redraw texts the page builds itself.
 */
export function setUpLanguage(onChange: (language: Language) => void): {
  language: () => Language;
} {
  let language = currentLanguage();
  applyLanguage(language);
  for (const input of document.querySelectorAll<HTMLInputElement>(
    'input[data-i18n-value]',
  )) {
    input.addEventListener('input', () => (input.dataset.edited = 'true'));
  }
  byId('language').addEventListener('click', () => {
    language = language === 'pt-BR' ? 'en' : 'pt-BR';
    localStorage.setItem(LANGUAGE_KEY, language);
    applyLanguage(language);
    onChange(language);
  });
  return { language: () => language };
}

/** The element with `id`; throws when the page lacks it. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) {
    throw new Error(`Element #${id} is missing from the page`);
  }
  return element as T;
}

/** WebSocket URL of the relay, from the page's origin and `data-ws-path`. */
export function relayUrl(): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${document.body.dataset.wsPath ?? '/ws'}`;
}

/** Origin of payment links: `DEMO_PUBLIC_URL` when set, else this page's origin. */
export function publicOrigin(): string {
  return document.body.dataset.publicUrl || location.origin;
}

/** A `clientId` kept for this tab, so that a reload takes over the same membership. */
export function tabClientId(prefix: string): string {
  const key = `payment-relay-demo-${prefix}-client`;
  let clientId = sessionStorage.getItem(key);
  if (!clientId) {
    clientId = `${prefix}-${crypto.randomUUID()}`;
    sessionStorage.setItem(key, clientId);
  }
  return clientId;
}

/** Formats an amount in cents as Brazilian reais. */
export function formatCents(cents: number, language: Language): string {
  return new Intl.NumberFormat(language, {
    style: 'currency',
    currency: 'BRL',
  }).format(cents / 100);
}
