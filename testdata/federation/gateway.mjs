// A real Apollo gateway (IntrospectAndCompose) over newsgraph and a small
// comments subgraph that extends Article by id with commentCount, as the
// comments team of a bigger newsroom would run it. Usage:
//   node gateway.mjs <newsgraph /graphql URL>
// Prints {"gateway": "<url>", "comments": "<url>"} once both listen, then
// serves until stdin closes.
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import gql from 'graphql-tag';

const newsgraph = process.argv[2];

const typeDefs = gql`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Article @key(fields: "id") {
    id: ID!
    commentCount: Int!
  }
  type Query {
    "Articles by id in the order given: the gateway fetches the rest from newsgraph."
    mostCommented(ids: [ID!]!): [Article!]!
  }
`;
// A stable count per article, so the test can check it was joined on.
const count = (id) => [...id].reduce((n, c) => n + c.charCodeAt(0), 0) % 97;
const resolvers = {
  Query: { mostCommented: (_, { ids }) => ids.map((id) => ({ id })) },
  Article: {
    __resolveReference: (ref) => ({ id: ref.id }),
    commentCount: (a) => count(a.id),
  },
};
const comments = new ApolloServer({
  schema: buildSubgraphSchema({ typeDefs, resolvers }),
  plugins: [ApolloServerPluginInlineTraceDisabled()],
});
const { url: commentsURL } = await startStandaloneServer(comments, { listen: { port: 0, host: '127.0.0.1' } });

const gateway = new ApolloGateway({
  supergraphSdl: new IntrospectAndCompose({
    subgraphs: [
      { name: 'newsgraph', url: newsgraph },
      { name: 'comments', url: commentsURL },
    ],
  }),
  // The caller's key goes on to every subgraph: newsgraph decides what it
  // may see.
  buildService: ({ url }) =>
    new RemoteGraphQLDataSource({
      url,
      willSendRequest({ request, context }) {
        if (context.authorization) request.http.headers.set('authorization', context.authorization);
      },
    }),
});
const server = new ApolloServer({ gateway, includeStacktraceInErrorResponses: false });
const { url } = await startStandaloneServer(server, {
  listen: { port: 0, host: '127.0.0.1' },
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});
console.log(JSON.stringify({ gateway: url, comments: commentsURL }));

process.stdin.resume();
process.stdin.on('end', async () => {
  await server.stop();
  await comments.stop();
  process.exit(0);
});
