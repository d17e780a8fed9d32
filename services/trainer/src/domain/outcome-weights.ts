import { OutcomeType } from '@reco/contracts';

/**
 * Extra training weight of an interaction that the feedback service attributed to a
 * recommendation, by what the user did with it: a shown item that was bought taught more than
 * one that was only clicked. Added to the base weight 1 of every interaction.
 */
export const OUTCOME_BONUS: Partial<Record<OutcomeType, number>> = {
  [OutcomeType.OUTCOME_TYPE_CLICK]: 0.25,
  [OutcomeType.OUTCOME_TYPE_ADD_TO_CART]: 0.5,
  [OutcomeType.OUTCOME_TYPE_PURCHASE]: 1,
};

export interface LabeledOutcome {
  outcomeId: string;
  userId: string;
  itemId: string;
  type: OutcomeType;
}

/**
 * The bonus per (user, item): the strongest positive outcome counts, each outcome id once
 * (feedback delivers at least once). Skips carry no bonus: the shown item is not in the user's
 * sequence, so there is no example to down-weight.
 */
export function outcomeBonuses(outcomes: Iterable<LabeledOutcome>): Map<string, Map<string, number>> {
  const seen = new Set<string>();
  const bonuses = new Map<string, Map<string, number>>();
  for (const o of outcomes) {
    if (seen.has(o.outcomeId)) continue;
    seen.add(o.outcomeId);
    const bonus = OUTCOME_BONUS[o.type];
    if (!bonus) continue;
    let perItem = bonuses.get(o.userId);
    if (!perItem) bonuses.set(o.userId, (perItem = new Map()));
    perItem.set(o.itemId, Math.max(perItem.get(o.itemId) ?? 0, bonus));
  }
  return bonuses;
}
