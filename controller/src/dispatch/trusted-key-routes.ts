import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type CommandSigner, TrustedKey } from '@loa/protocols';
import { Type } from '@sinclair/typebox';

/**
 * The public key receivers must trust to obey this controller's commands (for their
 * config's trustedKeys). Public by nature: it lets anyone verify, no one sign.
 */
export const trustedKeyRoutes: FastifyPluginAsyncTypebox<{ signer: CommandSigner }> = async (app, { signer }) => {
  const Entry = Type.Object(TrustedKey.properties, { additionalProperties: false });
  app.get(
    '/trusted-keys',
    {
      schema: {
        tags: ['commands'],
        summary: "The command-signing key receivers trust (an entry for the agent config's trustedKeys)",
        security: [],
        response: { 200: Type.Object({ keys: Type.Array(Entry) }) },
      },
    },
    async () => ({ keys: [signer.publicKey()] }),
  );
};
