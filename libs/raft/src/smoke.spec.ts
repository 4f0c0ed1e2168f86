import { Network } from './testing/network';

test('smoke', () => {
  const net = new Network({ seed: 1, voters: [1n, 2n, 3n] });
  const l = net.waitForLeader();
  expect(net.propose(l, 'hello')).toBe(true);
  net.stabilize();
  for (const sn of net.nodes.values()) expect(sn.appliedData()).toEqual(['hello']);
});
