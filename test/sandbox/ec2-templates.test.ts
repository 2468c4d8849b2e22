import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  DeleteLaunchTemplateVersionsCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  ModifyInstanceMetadataDefaultsCommand,
  ModifyLaunchTemplateCommand,
  RunInstancesCommand,
  paginateDescribeLaunchTemplateVersions,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeVersionRange, describeVersions } from '../../lib/shell/template-versions.js';
import { errorOf, harness, type Harness } from '../helpers/sandbox.js';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.sb.close());
beforeEach(() => h.sb.reset());

const create = (name = 'nodes', extra: Record<string, unknown> = {}) =>
  h.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: name,
      VersionDescription: 'v1',
      TagSpecifications: [{ ResourceType: 'launch-template', Tags: [{ Key: 'team', Value: 'analytics' }] }],
      LaunchTemplateData: {
        ImageId: 'ami-lt',
        InstanceType: 'm6i.large',
        UserData: Buffer.from('#!/bin/bash').toString('base64'),
        SecurityGroupIds: ['sg-1', 'sg-2'],
        MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2 },
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'owner', Value: 'analytics' }] }],
        ...extra,
      },
    }),
  );

describe('launch templates', () => {
  it('creates, tags and describes a template with EC2-shaped launch template data', async () => {
    const { LaunchTemplate: lt } = await create();
    expect(lt).toMatchObject({
      LaunchTemplateName: 'nodes',
      DefaultVersionNumber: 1,
      LatestVersionNumber: 1,
      Tags: [{ Key: 'team', Value: 'analytics' }],
    });
    expect(lt!.LaunchTemplateId).toMatch(/^lt-[0-9a-f]{17}$/);
    const v = await h.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: 'nodes', Versions: ['$Default'] }));
    const data = v.LaunchTemplateVersions![0]!.LaunchTemplateData!;
    expect(data.MetadataOptions).toEqual({ HttpTokens: 'optional', HttpPutResponseHopLimit: 2 });
    expect(data.SecurityGroupIds).toEqual(['sg-1', 'sg-2']);
    expect(data.TagSpecifications).toEqual([{ ResourceType: 'instance', Tags: [{ Key: 'owner', Value: 'analytics' }] }]);
    expect(v.LaunchTemplateVersions![0]).toMatchObject({ VersionNumber: 1, DefaultVersion: true, VersionDescription: 'v1' });
    const dup = await errorOf(create());
    expect(dup.name).toBe('InvalidLaunchTemplateName.AlreadyExistsException');
  });

  it('filters DescribeLaunchTemplates by tag and name', async () => {
    await create('lt-a');
    await create('lt-b');
    await h.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'lt-c', LaunchTemplateData: { ImageId: 'ami-1' } }));
    const byTag = await h.ec2.send(new DescribeLaunchTemplatesCommand({ Filters: [{ Name: 'tag:team', Values: ['analytics'] }] }));
    expect(byTag.LaunchTemplates!.map((t) => t.LaunchTemplateName)).toEqual(['lt-a', 'lt-b']);
    const byName = await h.ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: ['lt-c'] }));
    expect(byName.LaunchTemplates!.map((t) => t.LaunchTemplateName)).toEqual(['lt-c']);
    const nf = await errorOf(h.ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: ['lt-0123456789abcdef0'] })));
    expect(nf.name).toBe('InvalidLaunchTemplateId.NotFound');
  });

  it('merges SourceVersion data deeply and can change the default version', async () => {
    const { LaunchTemplate: lt } = await create();
    const v2 = await h.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: lt!.LaunchTemplateId,
        SourceVersion: '1',
        VersionDescription: 'imds-guard: require IMDSv2',
        LaunchTemplateData: { MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 } },
      }),
    );
    const data = v2.LaunchTemplateVersion!.LaunchTemplateData!;
    expect(v2.LaunchTemplateVersion).toMatchObject({
      VersionNumber: 2,
      DefaultVersion: false,
      VersionDescription: 'imds-guard: require IMDSv2',
    });
    expect(data.MetadataOptions).toEqual({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    expect(data.ImageId).toBe('ami-lt');
    expect(data.UserData).toBe(Buffer.from('#!/bin/bash').toString('base64'));

    // Partial nested override keeps the source's other MetadataOptions fields.
    const v3 = await h.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateName: 'nodes',
        SourceVersion: '1',
        LaunchTemplateData: { MetadataOptions: { HttpTokens: 'required' } },
      }),
    );
    expect(v3.LaunchTemplateVersion!.LaunchTemplateData!.MetadataOptions).toEqual({ HttpTokens: 'required', HttpPutResponseHopLimit: 2 });

    // Without SourceVersion the new version has only what was given.
    const v4 = await h.ec2.send(
      new CreateLaunchTemplateVersionCommand({ LaunchTemplateName: 'nodes', LaunchTemplateData: { InstanceType: 't3.small' } }),
    );
    expect(v4.LaunchTemplateVersion!.LaunchTemplateData).toEqual({ InstanceType: 't3.small' });

    const m = await h.ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: lt!.LaunchTemplateId, DefaultVersion: '2' }));
    expect(m.LaunchTemplate).toMatchObject({ DefaultVersionNumber: 2, LatestVersionNumber: 4 });
    const def = await h.ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: lt!.LaunchTemplateId, Versions: ['$Default', '$Latest'] }),
    );
    expect(def.LaunchTemplateVersions!.map((v) => v.VersionNumber)).toEqual([2, 4]);
    const bad = await errorOf(
      h.ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateName: 'nodes', SourceVersion: '9', LaunchTemplateData: {} })),
    );
    expect(bad.name).toBe('InvalidLaunchTemplateId.VersionNotFound');
  });

  it('paginates DescribeLaunchTemplateVersions', async () => {
    const { LaunchTemplate: lt } = await create();
    for (let i = 0; i < 6; i++) {
      await h.ec2.send(
        new CreateLaunchTemplateVersionCommand({
          LaunchTemplateId: lt!.LaunchTemplateId,
          SourceVersion: '$Latest',
          LaunchTemplateData: {},
        }),
      );
    }
    const sizes: number[] = [];
    const versions: number[] = [];
    for await (const p of paginateDescribeLaunchTemplateVersions(
      { client: h.ec2, pageSize: 3 },
      { LaunchTemplateId: lt!.LaunchTemplateId },
    )) {
      sizes.push(p.LaunchTemplateVersions!.length);
      versions.push(...p.LaunchTemplateVersions!.map((v) => v.VersionNumber!));
    }
    expect(sizes).toEqual([3, 3, 1]);
    expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const filtered = await h.ec2.send(
      new DescribeLaunchTemplateVersionsCommand({
        LaunchTemplateId: lt!.LaunchTemplateId,
        Filters: [{ Name: 'is-default-version', Values: ['true'] }],
      }),
    );
    expect(filtered.LaunchTemplateVersions!.map((v) => v.VersionNumber)).toEqual([1]);
  });
});

describe('deleted launch template versions', () => {
  const withVersions = async (n: number) => {
    const { LaunchTemplate: lt } = await create();
    const id = lt!.LaunchTemplateId!;
    for (let i = 1; i < n; i++)
      await h.ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: id, SourceVersion: '$Latest', LaunchTemplateData: {} }));
    return id;
  };
  const latestOf = async (id: string) =>
    (await h.ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [id] }))).LaunchTemplates![0]!.LatestVersionNumber;

  it('DeleteLaunchTemplateVersions reports each version; the default and missing ones fail alone', async () => {
    const id = await withVersions(4);
    const out = await h.ec2.send(new DeleteLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: ['2', '1', '9', '4'] }));
    expect(out.SuccessfullyDeletedLaunchTemplateVersions!.map((v) => v.VersionNumber)).toEqual([2, 4]);
    expect(out.UnsuccessfullyDeletedLaunchTemplateVersions!.map((v) => [v.VersionNumber, v.ResponseError!.Code])).toEqual([
      [1, 'unexpectedError'],
      [9, 'launchTemplateVersionDoesNotExist'],
    ]);
    // The latest drops to the highest left; numbers of deleted versions are not given again.
    expect(await latestOf(id)).toBe(3);
    const v = await h.ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: id, LaunchTemplateData: {} }));
    expect(v.LaunchTemplateVersion!.VersionNumber).toBe(5);
  });

  it('naming a deleted version fails the whole describe; a MinVersion/MaxVersion range skips it', async () => {
    const id = await withVersions(4);
    await h.ec2.send(new DeleteLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: ['2'] }));
    const err = await errorOf(h.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: ['2', '3'] })));
    expect(err.name).toBe('InvalidLaunchTemplateId.VersionNotFound');
    const range = await h.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, MinVersion: '2', MaxVersion: '3' }));
    expect(range.LaunchTemplateVersions!.map((v) => v.VersionNumber)).toEqual([3]);
  });

  it('lib/aws: describeVersions leaves deleted versions out; describeVersionRange pages through a range', async () => {
    const id = await withVersions(7);
    await h.ec2.send(new DeleteLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: ['3', '5'] }));
    expect((await describeVersions(h.ec2, id, [1, 3, 7])).map((v) => v.version).sort()).toEqual([1, 7]);
    expect(await describeVersions(h.ec2, id, [5])).toEqual([]);
    expect((await describeVersionRange(h.ec2, id, 2, 7)).map((v) => v.version)).toEqual([2, 4, 6, 7]);
    expect((await describeVersionRange(h.ec2, id, 1, 2)).map((v) => v.version)).toEqual([1, 2]);
    expect(await describeVersionRange(h.ec2, id, 8, 7)).toEqual([]);
  });
});

describe('RunInstances from a launch template', () => {
  it('inherits metadata options and tags, explicit params override per field, defaults fill the rest', async () => {
    const { LaunchTemplate: lt } = await create('nodes', { MetadataOptions: { HttpPutResponseHopLimit: 2 } });
    await h.ec2.send(new ModifyInstanceMetadataDefaultsCommand({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 }));
    const out = await h.ec2.send(
      new RunInstancesCommand({
        MinCount: 1,
        MaxCount: 1,
        LaunchTemplate: { LaunchTemplateId: lt!.LaunchTemplateId, Version: '$Latest' },
        MetadataOptions: { HttpEndpoint: 'enabled', InstanceMetadataTags: 'enabled' },
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'n1' }] }],
      }),
    );
    const i = out.Instances![0]!;
    // hop from the template (2) beats the account default (1); tokens unset in both → account default.
    expect(i.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 2, InstanceMetadataTags: 'enabled' });
    expect(i.ImageId).toBe('ami-lt');
    expect(i.InstanceType).toBe('m6i.large');
    const tags = Object.fromEntries(i.Tags!.map((t) => [t.Key, t.Value]));
    expect(tags).toEqual({
      owner: 'analytics',
      Name: 'n1',
      'aws:ec2launchtemplate:id': lt!.LaunchTemplateId,
      'aws:ec2launchtemplate:version': '1',
    });
  });

  it('uses the template version that was asked for', async () => {
    const { LaunchTemplate: lt } = await create();
    await h.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: lt!.LaunchTemplateId,
        SourceVersion: '1',
        LaunchTemplateData: { MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 } },
      }),
    );
    const launch = (Version?: string) =>
      h.ec2.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, LaunchTemplate: { LaunchTemplateName: 'nodes', Version } }));
    expect((await launch()).Instances![0]!.MetadataOptions).toMatchObject({ HttpTokens: 'optional', HttpPutResponseHopLimit: 2 });
    expect((await launch('2')).Instances![0]!.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    const nf = await errorOf(
      h.ec2.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, LaunchTemplate: { LaunchTemplateName: 'missing' } })),
    );
    expect(nf.name).toBe('InvalidLaunchTemplateName.NotFoundException');
  });
});
