import { text, type TextKey } from '../browser/i18n.js';

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** An element's Portuguese text and the key the page script translates it by. */
export function t(key: TextKey): string {
  return `data-i18n="${key}">${escapeHtml(text('pt-BR', key))}`;
}

export interface PageSettings {
  /** Path of the WebSocket endpoint, such as `/ws`. */
  wsPath: string;
  /** Origin of payment links; empty for the page's own origin. */
  publicUrl: string;
}

/**
 * Wraps a page body in the shared document: viewport for phones, the demo
 * stylesheet, the page's settings in `data-*` attributes of `<body>` and its
 * ES module script.
 */
export function renderPage(
  title: TextKey,
  script: string,
  settings: PageSettings,
  body: string,
  attributes: Record<string, string> = {},
): string {
  const data = Object.entries({
    'ws-path': settings.wsPath,
    'public-url': settings.publicUrl,
    ...attributes,
  })
    .map(([name, value]) => ` data-${name}="${escapeHtml(value)}"`)
    .join('');
  return `<!doctype html>
<html lang="pt-BR">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(text('pt-BR', title))}</title>
<link rel="icon" href="/demo/assets/icon.svg">
<link rel="stylesheet" href="/demo/assets/demo.css">
<script type="module" src="/demo/modules/demo/browser/${script}.js"></script>
</head>
<body${data}>
<header class="bar">
<strong data-i18n="${title}">${escapeHtml(text('pt-BR', title))}</strong>
<button type="button" id="language" class="link" ${t('lang.switch')}</button>
</header>
<main>
${body}
</main>
</body>
</html>
`;
}
