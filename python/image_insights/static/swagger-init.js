// Starts Swagger UI on the service's own OpenAPI document (kept out of the HTML so a strict
// Content-Security-Policy needs no inline script).
window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui" });
