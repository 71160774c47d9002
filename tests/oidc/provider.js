// A real OpenID Connect provider (node-oidc-provider, pinned in package.json) for ICP Lens's
// single sign-on tests; tests/services.py starts it. Everything comes from the environment:
//   PORT           the loopback port; the issuer is http://127.0.0.1:PORT
//   CLIENT_ID, CLIENT_SECRET, REDIRECT_URI   the one client: ICP Lens
//   ACCOUNTS       JSON {login: {email, groups}}: who may sign in, and the claims they carry
// Sign-in is the package's development form (any password), then its consent page.
import { randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const accounts = JSON.parse(process.env.ACCOUNTS);

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: [process.env.REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  // `groups` rides on the profile scope, which ICP Lens asks for with openid and email.
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'groups'],
  },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, name: id, email: account.email, email_verified: true, groups: account.groups };
      },
    };
  },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: [randomBytes(32).toString('hex')] },
});
// Errors inside the provider go to its log, which a failing test prints.
provider.on('server_error', (ctx, err) => console.error('server_error', err));

provider.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
