import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutcomeType } from '@reco/contracts';
import { outcomeBonuses } from './outcome-weights';

test('the strongest positive outcome per user and item counts, repeats and skips do not', () => {
  const o = (outcomeId: string, userId: string, itemId: string, type: OutcomeType) => ({
    outcomeId,
    userId,
    itemId,
    type,
  });
  const b = outcomeBonuses([
    o('1', 'u', 'a', OutcomeType.OUTCOME_TYPE_CLICK),
    o('2', 'u', 'a', OutcomeType.OUTCOME_TYPE_PURCHASE),
    o('2', 'u', 'a', OutcomeType.OUTCOME_TYPE_PURCHASE),
    o('3', 'u', 'b', OutcomeType.OUTCOME_TYPE_SKIP),
    o('4', 'v', 'a', OutcomeType.OUTCOME_TYPE_ADD_TO_CART),
  ]);
  assert.equal(b.get('u')!.get('a'), 1);
  assert.equal(b.get('u')!.has('b'), false);
  assert.equal(b.get('v')!.get('a'), 0.5);
});
