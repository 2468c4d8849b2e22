// IAM (awsQuery, global): the OIDC providers needed to check IRSA readiness, and roles (AssumeRole targets).
// Hand-rolled because @aws-sdk/client-iam is not a declared dependency.
import { AwsError } from '../errors.js';
import { memberList, type Params } from '../protocol/query.js';
import { esc } from '../protocol/xml.js';
import type { Ctx } from '../runtime.js';
import type { OidcProviderRecord, RoleRecord } from '../state.js';
import type { QueryService } from './types.js';

const list = (items: string[]) => items.map((x) => `<member>${esc(x)}</member>`).join('');
const tagsXml = (tags: Record<string, string>) =>
  `<Tags>${Object.entries(tags)
    .map(([k, v]) => `<member><Key>${esc(k)}</Key><Value>${esc(v)}</Value></member>`)
    .join('')}</Tags>`;

function provider(ctx: Ctx, p: Params): OidcProviderRecord {
  const arn = p.get('OpenIDConnectProviderArn') ?? '';
  const rec = ctx.rt.state.oidcProviders.get(arn);
  if (!rec) throw new AwsError('NoSuchEntity', `OpenIDConnect Provider not found for arn ${arn}`, 404);
  return rec;
}

const roleXml = (r: RoleRecord) =>
  `<Role><Path>/</Path><RoleName>${esc(r.name)}</RoleName><RoleId>${esc(r.roleId)}</RoleId><Arn>${esc(r.arn)}</Arn>` +
  `<CreateDate>${r.createDate.toISOString()}</CreateDate>` +
  (r.trustPolicy ? `<AssumeRolePolicyDocument>${esc(encodeURIComponent(r.trustPolicy))}</AssumeRolePolicyDocument>` : '') +
  '</Role>';

function role(ctx: Ctx, p: Params): RoleRecord {
  const name = p.get('RoleName') ?? '';
  const r = ctx.rt.state.roles.get(name);
  if (!r) throw new AwsError('NoSuchEntity', `The role with name ${name} cannot be found.`, 404);
  return r;
}

const roleHandlers: Record<string, (ctx: Ctx, p: Params) => string> = {
  CreateRole(ctx, p) {
    const name = p.get('RoleName') ?? '';
    if (!/^[\w+=,.@-]{1,64}$/.test(name))
      throw new AwsError('ValidationError', `1 validation error detected: Value '${name}' at 'roleName' failed to satisfy constraint`);
    if (ctx.rt.state.roles.has(name)) throw new AwsError('EntityAlreadyExists', `Role with name ${name} already exists.`, 409);
    const trust = p.get('AssumeRolePolicyDocument');
    if (!ctx.rt.accounts) throw new AwsError('ServiceFailure', 'The sandbox has no account registry', 500);
    ctx.rt.accounts.createRole(ctx.rt.state.accountId, name, trust);
    return roleXml(ctx.rt.state.roles.get(name)!);
  },
  GetRole: (ctx, p) => roleXml(role(ctx, p)),
  DeleteRole(ctx, p) {
    ctx.rt.state.roles.delete(role(ctx, p).name);
    return '';
  },
};

export const iamService: QueryService = {
  service: 'iam',
  protocol: 'query',
  xmlns: 'https://iam.amazonaws.com/doc/2010-05-08/',
  globalRegion: 'us-east-1',
  handlers: {},
  throttleError: { code: 'Throttling', status: 400, message: 'Rate exceeded' },
  serverError: { code: 'ServiceFailure', status: 500, message: 'The request processing has failed because of an unknown error.' },
  raw: {
    ...roleHandlers,
    ListOpenIDConnectProviders(ctx) {
      const arns = [...ctx.rt.state.oidcProviders.keys()];
      return `<OpenIDConnectProviderList>${arns.map((a) => `<member><Arn>${esc(a)}</Arn></member>`).join('')}</OpenIDConnectProviderList>`;
    },
    CreateOpenIDConnectProvider(ctx, p) {
      const url = p.get('Url') ?? '';
      if (!/^https:\/\/[^\s/]+/.test(url))
        throw new AwsError('ValidationError', `1 validation error detected: Value '${url}' at 'url' failed to satisfy constraint`);
      const bare = url.replace(/^https:\/\//, '').replace(/\/$/, '');
      const arn = `arn:aws:iam::${ctx.rt.state.accountId}:oidc-provider/${bare}`;
      if (ctx.rt.state.oidcProviders.has(arn)) throw new AwsError('EntityAlreadyExists', `Provider with url ${url} already exists.`, 409);
      const tags: Record<string, string> = {};
      for (let i = 1; p.has(`Tags.member.${i}.Key`); i++) tags[p.get(`Tags.member.${i}.Key`)!] = p.get(`Tags.member.${i}.Value`) ?? '';
      ctx.rt.state.oidcProviders.set(arn, {
        arn,
        url: bare,
        clientIds: memberList(p, 'ClientIDList'),
        thumbprints: memberList(p, 'ThumbprintList'),
        createDate: new Date(),
        tags,
      });
      return `<OpenIDConnectProviderArn>${esc(arn)}</OpenIDConnectProviderArn>${tagsXml(tags)}`;
    },
    GetOpenIDConnectProvider(ctx, p) {
      const r = provider(ctx, p);
      return (
        `<Url>${esc(r.url)}</Url><ClientIDList>${list(r.clientIds)}</ClientIDList>` +
        `<ThumbprintList>${list(r.thumbprints)}</ThumbprintList><CreateDate>${r.createDate.toISOString()}</CreateDate>${tagsXml(r.tags)}`
      );
    },
    DeleteOpenIDConnectProvider(ctx, p) {
      ctx.rt.state.oidcProviders.delete(provider(ctx, p).arn);
      return '';
    },
  },
};
