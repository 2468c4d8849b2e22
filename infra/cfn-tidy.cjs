// osls plugin: drop DependsOn entries the resource already has through Ref, Fn::GetAtt or Fn::Sub (osls adds
// DependsOn on the role of every function that names one, next to `Role: !GetAtt <role>.Arn`), so cfn-lint
// (W3005) stays quiet. Order of creation is unchanged: CloudFormation derives the same dependency from the reference.
'use strict';

function referenced(v, out = new Set()) {
  if (Array.isArray(v)) for (const x of v) referenced(x, out);
  else if (v && typeof v === 'object') {
    if (typeof v.Ref === 'string') out.add(v.Ref);
    const att = v['Fn::GetAtt'];
    if (att) out.add(Array.isArray(att) ? att[0] : String(att).split('.')[0]);
    const sub = v['Fn::Sub'];
    const text = Array.isArray(sub) ? sub[0] : sub;
    if (typeof text === 'string') for (const m of text.matchAll(/\$\{([A-Za-z0-9]+)[.}]/g)) out.add(m[1]);
    for (const x of Object.values(v)) referenced(x, out);
  }
  return out;
}

function tidy(template) {
  for (const r of Object.values(template.Resources ?? {})) {
    if (!r.DependsOn) continue;
    const refs = referenced(r.Properties);
    const kept = [].concat(r.DependsOn).filter((d) => !refs.has(d));
    if (kept.length) r.DependsOn = kept;
    else delete r.DependsOn;
  }
}

class CfnTidy {
  constructor(serverless) {
    this.hooks = { 'before:package:finalize': () => tidy(serverless.service.provider.compiledCloudFormationTemplate) };
  }
}

module.exports = CfnTidy;
