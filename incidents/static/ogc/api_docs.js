// Swagger UI over the OGC API's OpenAPI document (the URL is the element's data-spec).
document.addEventListener("DOMContentLoaded", function () {
  var node = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: node.dataset.spec, domNode: node, deepLinking: true });
});
