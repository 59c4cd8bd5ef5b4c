// The API description (GET /openapi.yaml) rendered by the vendored Swagger
// UI (a global from its bundle). No validator badge: it would send the
// description to another host, which the page's policy forbids anyway.
const box = document.getElementById('api-docs');
window.ui = SwaggerUIBundle({
  url: '/openapi.yaml',
  domNode: box,
  validatorUrl: null,
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  onComplete: () => box.setAttribute('aria-busy', 'false'),
});
