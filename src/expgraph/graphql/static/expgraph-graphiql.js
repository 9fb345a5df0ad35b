// Starts expgraph's GraphiQL page (src/expgraph/graphql/graphiql.py serves it).
// Everything it uses was loaded from this server: React, ReactDOM, GraphiQL (whose
// bundle includes graphql-ws for subscriptions) and the explorer plugin.
(function () {
  "use strict";
  var config = JSON.parse(
    document.getElementById("expgraph-graphiql-config").textContent,
  );
  // The API is at the page's own URL, without its query string or fragment.
  var url = window.location.href.split("#")[0].split("?")[0];
  var socket = new URL(url);
  socket.protocol = socket.protocol === "https:" ? "wss:" : "ws:";

  var fetcher = GraphiQL.createFetcher({
    url: url,
    subscriptionUrl: socket.toString(),
  });
  var explorer = GraphiQLPluginExplorer.explorerPlugin();

  function Page() {
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [explorer],
      defaultQuery: config.defaultQuery,
      isHeadersEditorEnabled: true,
      defaultEditorToolsVisibility: true,
      inputValueDeprecation: true,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(Page),
  );
})();
