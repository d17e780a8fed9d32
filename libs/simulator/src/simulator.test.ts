import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateShop } from './catalog';
import { simulateHistory } from './history';
import { generateShoppers, reactToList, simulationRandom } from './shoppers';

test('the catalog covers every category with complete items, deterministically', () => {
  const a = generateShop(1000, 1, 0);
  const b = generateShop(1000, 1, 0);
  assert.deepEqual(a.items[17], b.items[17]);
  assert.equal(a.categories.length, 20);
  for (const c of a.categories) assert.equal(a.byCategory.get(c)!.length, 50);
  for (const item of a.items) {
    assert.ok(item.title && item.brand && item.price > 0 && item.categoryPath.length === 2);
  }
  // follow-ups stay in the item's department
  a.items.forEach((item, i) => {
    for (const f of a.followUps[i]!) assert.equal(a.items[f]!.categoryPath[0], item.categoryPath[0]);
  });
});

test('history follows the planted habits: follow-ups come next far more often than chance', () => {
  const shop = generateShop(2000, 2, 0);
  const shoppers = generateShoppers(shop, 300, 3);
  const events = simulateHistory(shop, shoppers, {
    stepsPerShopper: 12,
    spanMs: 86400_000,
    end: 1e12,
    seed: 4,
  });
  const idx = new Map(shop.items.map((it, i) => [it.itemId, i]));
  const last = new Map<string, number>();
  let follow = 0;
  let pairs = 0;
  for (const e of events) {
    const item = idx.get(e.json.item_id as string)!;
    const prev = last.get(e.key);
    if (prev !== undefined) {
      pairs++;
      if (shop.followUps[prev]!.includes(item)) follow++;
    }
    last.set(e.key, item);
  }
  assert.ok(follow / pairs > 0.5, `follow-up share ${follow / pairs}`);
  // events are in time order
  const times = events.map((e) => Date.parse(e.json.timestamp as string));
  assert.deepEqual(
    times,
    [...times].sort((x, y) => x - y),
  );
});

test('shoppers click follow-ups of what they just saw more than unrelated items', () => {
  const shop = generateShop(2000, 5, 0);
  const [shopper] = generateShoppers(shop, 1, 6);
  shopper!.journey.push(shop.byCategory.get(shopper!.tastes[0]!)![0]!);
  const rand = simulationRandom(7);
  const followUps = shop.followUps[shopper!.journey[0]!]!;
  const unrelated = shop.byCategory
    .get(shop.categories.find((c) => !shopper!.tastes.includes(c))!)!
    .slice(0, 3);
  let a = 0;
  let b = 0;
  for (let i = 0; i < 5000; i++) {
    if (reactToList(shop, shopper!, followUps, rand) >= 0) a++;
    if (reactToList(shop, shopper!, unrelated, rand) >= 0) b++;
  }
  assert.ok(a > 3 * b, `follow-ups ${a} vs unrelated ${b}`);
});
