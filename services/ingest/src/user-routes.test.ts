import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { pseudonymize } from '@reco/platform';
import { UserRoutes, userRoutePartitioner } from './user-routes';

const KEY = Buffer.from('k'.repeat(32));
const metadata = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 1,
    replicas: [1],
    isr: [1],
  }));

test("a user's route holds the HMAC pseudonym, as key bytes too, and the same object each time", () => {
  const routes = new UserRoutes(KEY, 3);
  for (const user of ['alice', 'bob', 'zoë', '\ud800']) {
    const route = routes.route(user);
    assert.equal(route.pseudonym, pseudonymize(user, KEY));
    assert.deepEqual(route.key, Buffer.from(route.pseudonym));
  }
  assert.equal(routes.route('bob'), routes.route('bob'));
  assert.equal(routes.route('alice').pseudonym, pseudonymize('alice', KEY)); // evicted, computed again
});

test("routed messages go to the default partitioner's partition, also after the count changes", () => {
  const routes = new UserRoutes(KEY);
  const partitioner = userRoutePartitioner();
  const reference = Partitioners.DefaultPartitioner();
  for (const partitions of [6, 6, 7, 1, 6]) {
    for (let u = 0; u < 200; u++) {
      const route = routes.route(`user-${u}`);
      const args = {
        topic: 't',
        partitionMetadata: metadata(partitions),
        message: { key: route.key, value: null },
      };
      assert.equal(partitioner({ ...args, message: { ...args.message, route } } as never), reference(args));
    }
  }
  // Messages without a route (dead letters, catalog items) and explicit partitions as before
  const plain = { topic: 't', partitionMetadata: metadata(6), message: { key: 'sku-1', value: null } };
  assert.equal(partitioner(plain), reference(plain));
  const route = routes.route('alice');
  const explicit = {
    topic: 't',
    partitionMetadata: metadata(6),
    message: { key: route.key, value: null, partition: 5, route },
  };
  assert.equal(partitioner(explicit as never), 5);
});
