import { memberArgs, planCluster, splitCommand } from './cluster';

describe('cluster plans', () => {
  it('gives a single member a one-entry initial cluster', () => {
    const plan = planCluster('etcd', ['etcd'], [2379, 2380], '/tmp/x', ['--quota-backend-bytes', '1']);
    // prettier-ignore
    expect(memberArgs(plan, plan.members[0])).toEqual([
      '--name', 'etcd-0',
      '--data-dir', '/tmp/x/etcd-0.data',
      '--listen-client-urls', 'http://127.0.0.1:2379',
      '--advertise-client-urls', 'http://127.0.0.1:2379',
      '--listen-peer-urls', 'http://127.0.0.1:2380',
      '--initial-advertise-peer-urls', 'http://127.0.0.1:2380',
      '--initial-cluster', 'etcd-0=http://127.0.0.1:2380',
      '--quota-backend-bytes', '1',
    ]);
  });

  it('lists every peer in the initial cluster of a three-member cluster', () => {
    const plan = planCluster('cairn', ['node', 'main.js'], [1, 2, 3, 4, 5, 6], '/d');
    expect(plan.members.map((m) => m.name)).toEqual(['cairn-0', 'cairn-1', 'cairn-2']);
    const args = memberArgs(plan, plan.members[1]);
    expect(args[args.indexOf('--initial-cluster') + 1]).toBe(
      'cairn-0=http://127.0.0.1:2,cairn-1=http://127.0.0.1:4,cairn-2=http://127.0.0.1:6',
    );
    expect(args[args.indexOf('--listen-client-urls') + 1]).toBe('http://127.0.0.1:3');
  });

  it('splits command strings on whitespace', () => {
    expect(splitCommand('  node  dist/apps/cairn/main.js --x ')).toEqual([
      'node',
      'dist/apps/cairn/main.js',
      '--x',
    ]);
  });
});
