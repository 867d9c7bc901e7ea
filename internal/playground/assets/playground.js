// The newsgraph playground: GraphiQL on /graphql, with example operations
// for readers and editors, one tab each. Editor tabs carry an Authorization
// header to fill in; the reader tab sends none (a wrong key is refused, not
// served as a reader).
(function () {
  var editorHeaders = JSON.stringify({ Authorization: "Bearer PASTE-YOUR-EDITOR-KEY" }, null, 2);
  var tabs = [
    {
      query: [
        "# Reader: the front page. No key needed.",
        "query FrontPage {",
        "  articles(first: 10) {",
        "    edges { node { headline dek publishedAt canonicalUrl",
        "      authors { name } section { name } } }",
        "    pageInfo { hasNextPage endCursor }",
        "  }",
        "}"
      ].join("\n")
    },
    {
      query: [
        "# Editor: start a draft. Put your editor key in Headers below.",
        "mutation CreateDraft($input: ArticleInput!) {",
        "  createArticle(input: $input) { id slug status version }",
        "}"
      ].join("\n"),
      variables: JSON.stringify({
        input: {
          headline: "Night buses return to the river line",
          dek: "A six-month pilot starts in May.",
          body: "The **pilot** runs every 20 minutes.\n\n## Routes\n\n- N1\n- N4",
          section: "politics",
          tags: ["transit"]
        }
      }, null, 2),
      headers: editorHeaders
    },
    {
      query: [
        "# Editor: revise with the version you read; a stale one gets CONFLICT.",
        "mutation Revise($id: ID!, $version: Int!) {",
        "  updateArticle(id: $id, expectedVersion: $version,",
        "                input: { dek: \"Starting 4 May.\" }) { version dek }",
        "}"
      ].join("\n"),
      variables: JSON.stringify({ id: "PASTE-THE-ARTICLE-ID", version: 1 }, null, 2),
      headers: editorHeaders
    },
    {
      query: [
        "# Editor: publish now, or schedule with a future `at`.",
        "mutation Publish($id: ID!, $at: Time) {",
        "  publishArticle(id: $id, at: $at) { slug status publishedAt version }",
        "}"
      ].join("\n"),
      variables: JSON.stringify({ id: "PASTE-THE-ARTICLE-ID", at: null }, null, 2),
      headers: editorHeaders
    },
    {
      query: [
        "# Editor: drafts, newest change first, and each one's revisions.",
        "query Drafts {",
        "  articles(filter: { status: DRAFT }) {",
        "    edges { node { id slug headline version updatedAt",
        "      revisions(first: 5) { version savedAt savedBy { name } operation } } }",
        "  }",
        "}"
      ].join("\n"),
      headers: editorHeaders
    }
  ];
  var container = document.getElementById("graphiql");
  var root = ReactDOM.createRoot(container);
  root.render(React.createElement(GraphiQL, {
    fetcher: GraphiQL.createFetcher({ url: container.dataset.endpoint }),
    defaultTabs: tabs,
    isHeadersEditorEnabled: true,
    defaultEditorToolsVisibility: true,
    shouldPersistHeaders: true
  }));
})();
