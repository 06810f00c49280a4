// Issue 13: the janitor's pure decisions: which clusters the labels show, and which are due.
import { findClusters, judgeCluster } from '../../src/plan/janitor.ts';
import type { FoundCluster } from '../../src/plan/janitor.ts';

const KEEP = 'ha-masters-keep';
const NOW = Date.parse('2026-12-03T12:00:00Z');
const at = (iso: string) => String(Date.parse(iso) / 1000);

describe('findClusters', () => {
  test('groups addresses and VMs by ha-masters-cluster; the address speaks for the expiry; other labels are ignored', () => {
    const found = findClusters(
      [
        {
          region: 'europe-west1',
          labels: {
            'ha-masters-cluster': 'pr-7-master',
            'ha-masters-pr': '7',
            'ha-masters-repo': 'acme-infra',
            'ha-masters-expires-at': at('2026-12-04T00:00:00Z'),
          },
        },
        { region: 'europe-west1', labels: { 'ha-masters-cluster': 'not a master' } },
        { region: 'us-east1', labels: { env: 'prod' } },
      ],
      [
        // A VM made before the last run moved the expiry on the address.
        { zone: 'europe-west1-b', labels: { 'ha-masters-cluster': 'pr-7-master', 'ha-masters-expires-at': at('2026-12-03T00:00:00Z') } },
        {
          zone: 'us-central1-a',
          labels: { 'ha-masters-cluster': 'loose-master', 'ha-masters-expires-at': at('2026-12-01T00:00:00Z'), [KEEP]: '' },
        },
      ],
      KEEP,
    );
    expect(found).toEqual([
      { master: 'loose-master', prefix: 'loose', region: 'us-central1', expiresAt: Date.parse('2026-12-01T00:00:00Z'), keep: true },
      {
        master: 'pr-7-master',
        prefix: 'pr-7',
        region: 'europe-west1',
        expiresAt: Date.parse('2026-12-04T00:00:00Z'),
        pr: 7,
        repo: 'acme-infra',
        keep: false,
      },
    ]);
  });
});

describe('judgeCluster', () => {
  const base: FoundCluster = { master: 'pr-7-master', prefix: 'pr-7', keep: false };
  test('the keep label wins over expiry and a closed pull request', () => {
    expect(judgeCluster({ ...base, keep: true, expiresAt: NOW - 1, pr: 7 }, NOW, { state: 'closed' }, KEEP)).toEqual({
      delete: false,
      why: `it carries the keep label ${KEEP}`,
    });
  });
  test('expired: deleted, whatever the pull request', () => {
    expect(judgeCluster({ ...base, expiresAt: NOW }, NOW, undefined, KEEP).delete).toBe(true);
  });
  test('a closed or merged pull request: deleted before its expiry', () => {
    expect(judgeCluster({ ...base, pr: 7, expiresAt: NOW + 1 }, NOW, { state: 'closed', merged: true }, KEEP)).toEqual({
      delete: true,
      why: 'its pull request #7 is merged',
    });
  });
  test('open, unknown, or no pull request and no expiry: kept, saying why', () => {
    expect(judgeCluster({ ...base, pr: 7 }, NOW, { state: 'open' }, KEEP)).toEqual({
      delete: false,
      why: 'its pull request #7 is open and it has no expiry',
    });
    expect(judgeCluster({ ...base, pr: 7, expiresAt: NOW + 1000 }, NOW, { state: 'unknown', why: 'no github-token' }, KEEP).why).toMatch(
      /^it expires at .*; the state of its pull request #7 is unknown \(no github-token\)$/,
    );
    expect(judgeCluster(base, NOW, undefined, KEEP)).toEqual({ delete: false, why: 'it has no expiry' });
  });
});
