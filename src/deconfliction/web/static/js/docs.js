// /v1/docs: Swagger UI over the service's own OpenAPI document. Every asset comes from the service
// (web/build.mjs bundles Swagger UI from npm), so the page works with no internet; this file is a script of
// its own, not inline, so the page's policy allows scripts from the service only.
/* global SwaggerUIBundle */
if (typeof SwaggerUIBundle === "undefined") {
  document.getElementById("swagger-ui").textContent =
    "Swagger UI's assets are not built: run `make web` (see docs/api.md). The document itself is at /v1/openapi.json.";
} else {
  window.ui = SwaggerUIBundle({
    url: "/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    displayOperationId: true,
    // no validator badge: it would send the document to a validator on the internet
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
}
