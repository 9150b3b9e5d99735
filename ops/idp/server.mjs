// The development OpenID Connect provider of `make run` and the tests (ADR 0013): panva's
// oidc-provider, a certified OP, configured for Gradeline. Never for production: anyone can sign
// in as any demo user by typing its name, and two test hooks can rotate and use its keys.
//
// Started by ops/identity_provider.py as `node server.mjs CONFIG.json`; the config names the
// issuer, port, audience, the public web client, the browser origins, the users (sub, name,
// and the claims their access tokens carry) and the service clients (client_id, client_secret
// and the claims of their tokens). What it adds to the stock provider:
// - access tokens are JWTs (RFC 9068) for the Gradeline API: `aud` the audience, `iss`, `sub`,
//   `client_id`, `scope`, and the user's claims (roles, branch_id, department, or any nesting);
// - confidential service clients (the `gradeline` command) with the client-credentials grant
//   only: their access tokens are JWTs for the API as well, `sub` the client id, carrying the
//   client's claims (its roles);
// - the sign-in form takes a demo user's sub (the password is ignored; another name signs in
//   with no roles), and the first-party web client needs no consent;
// - CORS for the configured browser origins (token, userinfo, revocation endpoints);
// - POST /dev/rotate-key {"alg": "RS256"|"ES256"}: a new signing key (new kid) first in the JWKS,
//   the previous ones kept; the provider is rebuilt in this process and sessions survive;
// - POST /dev/sign {claims, header?}: a JWT signed with the current key, for tests of claims
//   the services must refuse (expired, wrong audience...).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import { exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const RESOURCE = config.resource;
const SCOPE = 'gradeline';
const users = new Map(config.users.map((user) => [user.sub, user]));
const serviceClients = new Map((config.service_clients ?? []).map((c) => [c.client_id, c]));
const cookieKeys = [randomBytes(32).toString('base64url')];

async function newKey(alg) {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = `${alg.toLowerCase()}-${randomBytes(6).toString('hex')}`;
  return { ...jwk, kid, alg, use: 'sig' };
}

function providerWith(keys) {
  const current = keys[0];
  const provider = new Provider(config.issuer, {
    clients: [{
      client_id: config.client_id,
      token_endpoint_auth_method: 'none',
      application_type: 'web',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: config.redirect_uris,
      post_logout_redirect_uris: config.post_logout_redirect_uris,
    }, ...[...serviceClients.values()].map((service) => ({
      client_id: service.client_id,
      client_secret: service.client_secret,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    }))],
    jwks: { keys },
    cookies: { keys: cookieKeys },
    async findAccount(ctx, sub) {
      // Anyone else signs in too, with no claims: a person the company knows but Gradeline
      // gives no role (refused with 403 by every protected route).
      const user = users.get(sub) ?? { name: sub, claims: {} };
      return {
        accountId: sub,
        async claims() {
          return { sub, name: user.name, preferred_username: sub, ...user.claims };
        },
      };
    },
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      [SCOPE]: ['roles', 'branch_id', 'department'],
    },
    scopes: ['openid', 'offline_access', 'profile', SCOPE],
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo(ctx, resource) {
          if (resource !== RESOURCE) throw new errors.InvalidTarget();
          return {
            scope: SCOPE,
            audience: config.audience,
            accessTokenTTL: config.access_token_ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: current.alg } },
          };
        },
      },
    },
    async extraTokenClaims(ctx, token) {
      if (token.kind === 'ClientCredentials') return serviceClients.get(token.clientId)?.claims;
      return users.get(token.accountId)?.claims;
    },
    async loadExistingGrant(ctx) {
      // The web client is first-party: its grant is made at sign-in, no consent screen.
      const { oidc } = ctx;
      const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
      const found = grantId && await oidc.provider.Grant.find(grantId);
      if (found) return found;
      const grant = new oidc.provider.Grant({
        clientId: oidc.client.clientId, accountId: oidc.session.accountId,
      });
      grant.addOIDCScope(`openid offline_access profile ${SCOPE}`);
      grant.addResourceScope(RESOURCE, SCOPE);
      await grant.save();
      return grant;
    },
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    clientBasedCORS: (ctx, origin) => config.cors_origins.includes(origin),
    ttl: {
      AccessToken: config.access_token_ttl,
      ClientCredentials: config.access_token_ttl,
      IdToken: config.access_token_ttl,
      RefreshToken: 8 * 3600,
      Grant: 8 * 3600,
      Session: 8 * 3600,
      Interaction: 3600,
      AuthorizationCode: 60,
    },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><title>${out.error}</title><h1>${out.error}</h1>`
        + `<p>${String(out.error_description ?? '').replace(/[<>&"]/g, '')}</p>`;
    },
  });
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  return provider;
}

let keys = [await newKey(config.alg ?? 'RS256')];
let handle = providerWith(keys).callback();

async function readJson(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : {};
}

function answer(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function devHook(req, res) {
  const body = await readJson(req);
  if (req.url === '/dev/rotate-key') {
    const alg = body.alg ?? 'RS256';
    if (!['RS256', 'ES256'].includes(alg)) return answer(res, 400, { error: 'alg: RS256 or ES256' });
    keys = [await newKey(alg), ...keys].slice(0, 3);
    handle = providerWith(keys).callback();
    console.log(`signing key rotated: ${keys[0].kid} (${alg})`);
    return answer(res, 200, { kid: keys[0].kid, alg });
  }
  const [current] = keys;
  const token = await new SignJWT(body.claims ?? {})
    .setProtectedHeader({ typ: 'at+jwt', ...(body.header ?? {}), alg: current.alg, kid: current.kid })
    .sign(await importJWK(current, current.alg));
  return answer(res, 200, { token, kid: current.kid });
}

const server = createServer((req, res) => {
  if (req.method === 'POST' && ['/dev/rotate-key', '/dev/sign'].includes(req.url)) {
    devHook(req, res).catch((err) => answer(res, 400, { error: String(err) }));
    return;
  }
  handle(req, res);
});
server.listen(config.port, config.host, () => {
  console.log(`identity provider ${config.issuer} listening on ${config.host}:${config.port}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
